/**
 * Issue 15 acceptance: the farm console in a real browser (Debian's chromium
 * via playwright-core, phone viewport 390 × 844) against the real gateway
 * runtime on loopback, with a simulated device on a Semtech UDP packet
 * forwarder emulator and a stepped simulated clock.
 *
 * Log in (a wrong password is refused); add a device from a generated TR005
 * QR image through the file picker; the simulator joins that device and its
 * uplinks appear in the open table without a reload; its chart shows the
 * points; a downlink queued from the page reaches the simulated device (it
 * decrypts the payload); forged requests are refused by the session and CSRF
 * checks; axe-core finds no serious violation on any page; each page is
 * screenshotted into test-results/console/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../gateway/config/load.js';
import { consoleOverview } from '../gateway/console/from-config.js';
import {
  type ConsoleServer,
  readConsolePassword,
  startConsole,
  writeConsolePassword,
} from '../gateway/console/index.js';
import { Metrics } from '../gateway/metrics/metrics.js';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { type GatewayRuntime, startGatewayRuntime } from '../gateway/runtime.js';
import { generateGatewayKey } from '../kernel/keys/gateway-key.js';
import { formatTr005 } from '../proto/lorawan/tr005.js';
import { SimClock } from '../simulator/clock.js';
import type { DeviceDownlinkResult } from '../simulator/device-types.js';
import { FarmSimulation, generateFarmDevices } from '../simulator/farm.js';
import { UdpRadioPath } from '../simulator/radio-link.js';
import { launchPhone, type PhoneBrowser, screenshot, seriousAxeViolations } from './helpers/browser.js';
import { Cleanups, runFarm, startForwarder, tempDataDir, UDP_GATEWAY } from './helpers/e2e-field.js';

const PASSWORD = 'field-tech-2026!';
/** Page updates wait on the gateway (scrypt, the store): bounded, generous for a loaded CI machine. */
const UI_WAIT = { timeout: 20_000, interval: 50 };
const cleanups = new Cleanups();
let runtime: GatewayRuntime;
let server: ConsoleServer;
let browser: PhoneBrowser;
let clock: SimClock;
let paths: UdpRadioPath[];
let dataDir: string;

const [spec] = generateFarmDevices({ seed: 15, count: 1, otaaRatio: 1, pathNames: ['udp'] });
if (spec?.activation !== 'otaa') throw new Error('the farm generator gave no OTAA device');

beforeAll(async () => {
  dataDir = tempDataDir(cleanups);
  await generateGatewayKey(dataDir);
  await writeConsolePassword(dataDir, PASSWORD);
  clock = new SimClock({ startMs: Date.now() });
  const udp = new SemtechUdpBackend({ host: '127.0.0.1', port: 0, txAckTimeoutMs: 2_000 });
  runtime = await startGatewayRuntime({
    dataDir,
    gatewayId: UDP_GATEWAY,
    regionId: 'EU868',
    radios: [udp],
    mqtt: {
      kind: 'embedded',
      host: '127.0.0.1',
      port: 0,
      username: 'console-test',
      password: 'console-test-pw',
    },
    synchronous: 'NORMAL',
    dedupWindowMs: 20,
    sealing: { periodMs: 3_600_000, now: () => clock.now() },
  });
  cleanups.add(() => runtime.stop());
  const forwarder = await startForwarder(cleanups, udp.address().port);
  paths = [new UdpRadioPath(forwarder, { name: 'udp', clock, tmstOffset: 1_000_000 })];

  const config = {
    ...validateConfig({ gateway: { id: UDP_GATEWAY, region: 'EU868' } }, 'the test'),
    dataDir,
  };
  const metrics = new Metrics({ gatewayId: UDP_GATEWAY });
  server = await startConsole(runtime, {
    host: '127.0.0.1',
    port: 0,
    password: readConsolePassword(dataDir),
    regionId: 'EU868',
    overview: (health) => consoleOverview(config, runtime, metrics, clock.now(), health),
    sealNow: async () =>
      ((await runtime.sealer?.sealNow()) ?? []).map((b) => ({ seq: b.seq, uplinks: b.uplinks })),
    now: () => clock.now(),
  });
  cleanups.add(() => server.close());
  browser = await launchPhone();
  cleanups.add(() => browser.close());
}, 60_000);

afterAll(() => cleanups.run());

/** Runs the simulated farm until `until` holds (bounded in simulated and real time). */
async function runUntil(farm: FarmSimulation, until: () => boolean): Promise<void> {
  await runFarm(
    { clock, gateway: () => runtime, until, progress: () => farm.snapshot() },
    { stepMs: 1_000, maxSimMs: 30 * 60_000, maxRealMs: 60_000 },
  );
}

async function expectAccessible(name: string): Promise<void> {
  await screenshot(browser.page, name);
  expect(await seriousAxeViolations(browser.page), `axe on ${name}`).toEqual([]);
}

describe('farm console in chromium at 390 × 844 (issue 15)', () => {
  let farm: FarmSimulation;
  const downlinks: string[] = [];

  it('refuses a wrong password, then logs in with the right one', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/`);
    const password = page.getByLabel('Console password');
    await password.waitFor();
    await expectAccessible('01-login');
    await password.fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('.error').textContent(), UI_WAIT).toContain('wrong password');
    expect(await page.getByRole('heading', { name: 'Overview' }).count()).toBe(0);

    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.textContent('main')).toContain(UDP_GATEWAY);
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'maverick_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await expectAccessible('02-overview');
  });

  it('adds the device from a TR005 QR image picked as a file', async () => {
    const { page } = browser;
    const qrText = formatTr005({
      joinEui: spec.joinEui,
      devEui: spec.devEui,
      vendorId: '0a1b',
      profileId: '0001',
      serialNumber: 'WS15',
    });
    const qrPath = join(dataDir, 'label.png');
    await QRCode.toFile(qrPath, qrText, { width: 360, margin: 4 });
    await page.goto(`${server.url}/#/devices/add`);
    const picker = page.getByLabel('Photo of the TR005 label');
    await picker.waitFor();
    await picker.setInputFiles(qrPath);
    await expect.poll(() => page.getByLabel('DevEUI').inputValue(), UI_WAIT).toBe(spec.devEui);
    expect(await page.getByLabel('JoinEUI').inputValue()).toBe(spec.joinEui);
    await page.getByLabel('AppKey').fill(spec.appKey);
    await page.getByLabel('Name', { exact: true }).fill('weather station');
    await expectAccessible('03-add-device');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.locator(`tr[data-dev-eui="${spec.devEui}"]`).waitFor();
    const stored = await runtime.repository.getDevice(spec.devEui);
    expect(stored?.activation).toEqual({ mode: 'otaa', joinEui: spec.joinEui, appKey: spec.appKey });
    expect(stored?.codec).toEqual({ kind: 'cayenne-lpp' });
  });

  it('shows the joined device’s uplinks live in the open table, without a reload', async () => {
    const { page } = browser;
    await page.evaluate('window.__notReloaded = true');
    farm = new FarmSimulation({
      clock,
      paths,
      devices: [{ ...spec, name: 'weather station' }],
      seed: 15,
      intervalMs: 60_000,
      uplinks: Number.POSITIVE_INFINITY,
      confirmedRatio: 0,
      startSpreadMs: 1_000,
      answerGraceMs: 3_000,
    });
    cleanups.add(() => farm.stop());
    const sim = farm.devices[0]?.sim;
    if (!sim) throw new Error('no simulated device');
    const handle = sim.handleDownlink.bind(sim);
    sim.handleDownlink = (phy, rx): DeviceDownlinkResult => {
      const result = handle(phy, rx);
      if (result.kind === 'data' && result.fPort === 10 && result.payload) {
        downlinks.push(Buffer.from(result.payload).toString('hex'));
      }
      return result;
    };
    farm.start();
    await runUntil(farm, () => farm.snapshot().uplinksSent >= 4);
    const row = page.locator(`tr[data-dev-eui="${spec.devEui}"]`);
    await expect
      .poll(async () => Number(await row.locator('[data-col="fcnt"]').textContent()), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);
    expect(Number(await row.locator('[data-col="uplinks24h"]').textContent())).toBeGreaterThanOrEqual(4);
    expect(await row.locator('[data-col="rssi"]').textContent()).toMatch(/^-\d+ \/ -?\d/);
    expect(await page.evaluate('window.__notReloaded')).toBe(true);
    await page.getByLabel('Search devices').fill('weather');
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Search devices').fill('nothing-like-this');
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.getByLabel('Search devices').fill('');
    await expectAccessible('04-devices');
  });

  it('charts the device’s readings and queues a downlink that reaches the device', async () => {
    const { page } = browser;
    await page.locator(`tr[data-dev-eui="${spec.devEui}"] a`).click();
    await page.getByRole('heading', { name: 'weather station' }).waitFor();
    const charts = page.locator('figure.chart');
    await charts.first().waitFor();
    const captions = await page.locator('figure.chart figcaption').allTextContents();
    // A weather station reports several fields; every chart has points, RSSI among them.
    expect(captions.length).toBeGreaterThanOrEqual(3);
    // Fewer uplinks than buckets: every uplink is its own point.
    const sent = farm.snapshot().uplinksSent;
    for (const caption of captions) expect(Number(/(\d+) points/.exec(caption)?.[1])).toBe(sent);
    expect(captions.some((c) => c.startsWith('rssi'))).toBe(true);
    expect(await page.locator('figure.chart canvas').count()).toBe(captions.length);
    expect(await page.locator('table.log tbody tr').count()).toBeGreaterThanOrEqual(4);
    await expectAccessible('05-device');

    await page.getByLabel('FPort').fill('10');
    await page.getByLabel('Payload (hex)').fill('c0ffee01');
    await page.getByRole('button', { name: 'Queue downlink' }).click();
    await expect.poll(() => page.locator('#toast').textContent(), UI_WAIT).toContain('Downlink queued');
    await runUntil(farm, () => downlinks.length > 0);
    expect(downlinks).toEqual(['c0ffee01']);
  });

  it('refuses forged and session-less requests', async () => {
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'maverick_session');
    expect(cookie).toBeDefined();
    const csrf = (
      (await (
        await fetch(`${server.url}/api/session`, { headers: { cookie: `maverick_session=${cookie?.value}` } })
      ).json()) as { csrf: string }
    ).csrf;
    const add = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          devEui: '0102030405060708',
          name: 'forged',
          activation: {
            mode: 'otaa',
            joinEui: '0000000000000000',
            appKey: '00112233445566778899aabbccddeeff',
          },
        }),
      });
    const session = `maverick_session=${cookie?.value}`;
    expect((await add({ cookie: session })).status).toBe(403); // no CSRF token
    expect((await add({ cookie: session, 'x-csrf-token': 'guessed' })).status).toBe(403);
    expect((await add({ 'x-csrf-token': csrf })).status).toBe(401); // no session
    expect((await add({ cookie: 'maverick_session=forged', 'x-csrf-token': csrf })).status).toBe(401);
    expect((await add({ cookie: session, 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(
      403,
    );
    // From the page itself, a fetch without the token is refused too.
    const status = await browser.page.evaluate(
      `fetch('/api/devices/${spec.devEui}', { method: 'DELETE' }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
    expect(await runtime.repository.getDevice('0102030405060708')).toBeUndefined();
    expect(await runtime.repository.getDevice(spec.devEui)).toBeDefined();
    expect((await fetch(`${server.url}/api/devices`)).status).toBe(401);
  });

  it('draws imported plots, exports GeoJSON, seals evidence, and logs out', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/plots`);
    await page.getByRole('heading', { name: 'Plots' }).waitFor();
    const geojson = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { id: 'north', name: 'North field', areaHa: 2.5 },
          geometry: { type: 'Point', coordinates: [11.02, 46.01] },
        },
        {
          type: 'Feature',
          properties: { id: 'south', name: 'South field', areaHa: 6 },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [11.0, 46.0],
                [11.01, 46.0],
                [11.01, 46.005],
                [11.0, 46.005],
                [11.0, 46.0],
              ],
            ],
          },
        },
      ],
    };
    const file = join(dataDir, 'plots.geojson');
    writeFileSync(file, JSON.stringify(geojson));
    await page.getByLabel('Import plots (FeatureCollection)').setInputFiles(file);
    await page.locator('svg.plots-map polygon').waitFor();
    expect(await page.locator('svg.plots-map circle').count()).toBe(1);
    expect(await page.textContent('main')).toContain('over 4 ha: polygon given');
    const exported = await page.evaluate("fetch('/api/plots.geojson').then((r) => r.json())");
    expect((exported as { features: unknown[] }).features).toHaveLength(2);
    await expectAccessible('06-plots');

    await page.goto(`${server.url}/#/evidence`);
    await page.getByRole('button', { name: 'Seal now' }).click();
    await page.locator('main table tbody tr').first().waitFor();
    expect(await page.locator('#toast').textContent()).toMatch(/Sealed #\d+/);
    await expectAccessible('07-evidence');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Console password').waitFor();
    const gone = await page.evaluate("fetch('/api/devices').then((r) => r.status)");
    expect(gone).toBe(401);
  });
});
