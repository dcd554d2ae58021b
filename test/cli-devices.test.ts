/**
 * Issue 11: technician commands that neither lose nor accept wrong data, run
 * as a technician runs them (the built `maverick` binary): `init --region
 * eu868`; a DevEUI typed as printed on a label; `device add` refusing an
 * existing DevEUI (and `--force` saying what changed), an ABP DevAddr+key
 * pair already in use and an unknown `--plot`; `device import` of 1,000
 * devices in one process, all or nothing with every bad row named; and
 * `device list` showing each device's health from the store.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../gateway/store-access.js';
import { toUplinkDoc } from '../kernel/db/ingest.js';
import { RxdbNetworkRepository } from '../kernel/db/network-repository.js';
import { projectRoot } from './helpers/cli.js';

let root: string;
let dataDir: string;

function maverick(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [join(projectRoot, 'bin', 'maverick.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, MAVERICK_LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const KEY = '00112233445566778899aabbccddeeff';

function listJson(): Record<string, unknown>[] {
  const res = maverick('device', 'list', '--data-dir', dataDir, '--json');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'maverick-cli-devices-'));
  dataDir = join(root, 'gw');
  const init = maverick(
    'init',
    '--data-dir',
    dataDir,
    '--region',
    'eu868',
    '--mqtt-password',
    'secret-pass-1',
  );
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  expect(init.stdout).toMatch(/region EU868/);
  expect(readFileSync(join(dataDir, 'maverick.toml'), 'utf8')).toMatch(/region = "EU868"/);
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('maverick device add', () => {
  it('takes a DevEUI and keys as printed on a label, refuses the same DevEUI again, and --force says what changed', () => {
    const add = maverick(
      'device',
      'add',
      '--data-dir',
      dataDir,
      '--dev-eui',
      '70-B3-D5-7E-D0-00-12-34',
      '--join-eui',
      '70:B3:D5:7E:D0:00:00:01',
      '--app-key',
      '00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF',
      '--name',
      'soil-probe-1',
      '--codec',
      'cayenne-lpp',
      '--region',
      'eu868',
    );
    expect(add.stderr).toBe('');
    expect(add.stdout).toBe('device 70b3d57ed0001234 (OTAA, EU868) registered\n');

    const again = maverick(
      'device',
      'add',
      '--data-dir',
      dataDir,
      '--dev-eui',
      '70b3d57ed0001234',
      '--app-key',
      KEY,
      '--name',
      'typo',
    );
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already registered.*soil-probe-1/);
    expect(again.stderr).toMatch(/--force/);
    const kept = listJson().find((d) => d.devEui === '70b3d57ed0001234');
    expect(kept).toMatchObject({ name: 'soil-probe-1', codec: 'cayenne-lpp' });

    const forced = maverick(
      'device',
      'add',
      '--data-dir',
      dataDir,
      '--dev-eui',
      '70b3d57ed0001234',
      '--join-eui',
      '70b3d57ed0000001',
      '--app-key',
      'ffeeddccbbaa99887766554433221100',
      '--name',
      'soil-probe-1b',
      '--force',
    );
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/replaced; changed: name: soil-probe-1 -> soil-probe-1b/);
    expect(forced.stdout).toMatch(/codec: \{"kind":"cayenne-lpp"\} -> \{"kind":"none"\}/);
    expect(forced.stdout).toMatch(/appKey: changed/);
    expect(forced.stdout).not.toMatch(/ffeedd/);
  }, 60_000);

  it('refuses an ABP DevAddr+NwkSKey already in use, and an unknown plot', () => {
    const abp = (devEui: string, ...extra: string[]) =>
      maverick(
        'device',
        'add',
        '--data-dir',
        dataDir,
        '--dev-eui',
        devEui,
        '--dev-addr',
        '26011BDA',
        '--nwk-s-key',
        KEY,
        '--app-s-key',
        KEY,
        ...extra,
      );
    expect(abp('0000000000000a01').code).toBe(0);
    const clash = abp('0000000000000a02');
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toMatch(
      /DevAddr 26011bda with this NwkSKey is already used by device 0000000000000a01/,
    );
    const plot = maverick(
      'device',
      'add',
      '--data-dir',
      dataDir,
      '--dev-eui',
      '0000000000000a03',
      '--app-key',
      KEY,
      '--plot',
      'nosuchplot',
    );
    expect(plot.code).not.toBe(0);
    expect(plot.stderr).toMatch(/--plot nosuchplot: no such plot/);
    const devices = listJson().map((d) => d.devEui);
    expect(devices).not.toContain('0000000000000a02');
    expect(devices).not.toContain('0000000000000a03');
  }, 60_000);
});

describe('maverick plot add', () => {
  it('refuses a 10 ha plot given as a point, and warns when --area-ha disagrees with the polygon', () => {
    const point = maverick(
      'plot',
      'add',
      '--data-dir',
      dataDir,
      '--id',
      'big',
      '--name',
      'Big',
      '--area-ha',
      '10',
      '--point',
      '48.15,11.50',
    );
    expect(point.code).not.toBe(0);
    expect(point.stderr).toMatch(/10 ha needs a polygon/);
    // About 1 ha drawn, 5 ha claimed.
    const polygon = maverick(
      'plot',
      'add',
      '--data-dir',
      dataDir,
      '--id',
      'small',
      '--name',
      'Small',
      '--area-ha',
      '5',
      '--polygon',
      '48.1500,11.5000;48.1500,11.50134;48.1509,11.50134;48.1509,11.5000',
    );
    expect(polygon.code).toBe(0);
    expect(polygon.stderr).toMatch(
      /warning: plot small: the polygon encloses 1\.\d\d ha but --area-ha says 5 ha/,
    );
    const list = JSON.parse(maverick('plot', 'list', '--data-dir', dataDir, '--json').stdout);
    expect(list.map((p: { id: string }) => p.id)).toEqual(['small']);
  }, 60_000);
});

describe('maverick device import', () => {
  it('registers 1,000 devices from CSV in one process', () => {
    const lines = ['dev-eui,name,app-key,codec,region'];
    for (let i = 0; i < 1000; i++) {
      const eui = (0x70b3d5ff00100000n + BigInt(i)).toString(16).padStart(16, '0');
      lines.push(`${eui.toUpperCase().match(/../g)?.join('-')},"probe ${i}, field",${KEY},cayenne-lpp,eu868`);
    }
    const file = join(root, 'fleet.csv');
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    const started = Date.now();
    const res = maverick('device', 'import', file, '--data-dir', dataDir);
    const seconds = (Date.now() - started) / 1000;
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(`1000 device(s) registered from ${file}\n`);
    process.stdout.write(`device import: 1000 devices in ${seconds.toFixed(1)} s (one process)\n`);
    const all = listJson();
    expect(all.filter((d) => String(d.name).startsWith('probe '))).toHaveLength(1000);
    expect(all.find((d) => d.devEui === '70b3d5ff001003e7')?.name).toBe('probe 999, field');
  }, 180_000);

  it('registers nothing when any row is bad, and names every bad row', () => {
    const file = join(root, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify([
        { devEui: '0000000000000b01', appKey: KEY },
        { devEui: 'not-an-eui', appKey: KEY },
        { devEui: '0000000000000b01', appKey: KEY },
        { devEui: '0000000000000b02', appKey: KEY, plot: 'nowhere' },
        { devEui: '70b3d57ed0001234', appKey: KEY },
        { devEui: '0000000000000b03', devAddr: '26011bda', nwkSKey: KEY, appSKey: KEY },
      ]),
    );
    const res = maverick('device', 'import', file, '--data-dir', dataDir);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/5 problem\(s\), nothing was registered/);
    expect(res.stderr).toMatch(/item 2: devEui must be 16 hex characters/);
    expect(res.stderr).toMatch(/item 3: dev-eui 0000000000000b01 is also on item 1/);
    expect(res.stderr).toMatch(/item 4: plot nowhere does not exist/);
    expect(res.stderr).toMatch(/item 5: dev-eui 70b3d57ed0001234 is already registered/);
    expect(res.stderr).toMatch(
      /item 6: dev-addr 26011bda with this NwkSKey is already used by device 0000000000000a01/,
    );
    expect(listJson().map((d) => d.devEui)).not.toContain('0000000000000b01');
  }, 60_000);
});

describe('maverick device list', () => {
  it('shows last seen, RSSI/SNR, battery, FCnt, uplinks in 24 h and the last error', async () => {
    const devEui = '0000000000000a01';
    const now = Date.now();
    const db = await openGatewayDatabase(dataDir);
    const repository = await RxdbNetworkRepository.open(db);
    try {
      const session = await repository.getSession(devEui);
      if (!session) throw new Error('ABP device has no session');
      await repository.putSession({
        ...session,
        fCntUp: 41,
        lastDevStatus: { battery: 127, margin: 5, at: new Date(now - 60_000).toISOString() },
      });
      const uplink = (fCnt: number, at: number, rssi: number, codecErrors?: string[]) =>
        toUplinkDoc({
          devEui,
          devAddr: '26011bda',
          applicationId: 'farm',
          fCnt,
          fPort: 2,
          confirmed: false,
          adr: true,
          phyPayload: Uint8Array.of(0x40, fCnt),
          rxInfo: [{ gatewayEui: 'aa555a0000000001', rssi, snr: 6.25 }],
          frequencyHz: 868_100_000,
          receivedAtMs: at,
          time: new Date(at).toISOString(),
          timeSource: 'gps',
          ...(codecErrors ? { codecErrors } : {}),
        });
      await db.uplinks.bulkInsert([
        uplink(38, now - 2 * 86_400_000, -70),
        uplink(39, now - 3_600_000, -71, ['decodeUplink threw: bad byte']),
        uplink(40, now - 600_000, -72),
        uplink(41, now - 60_000, -73),
      ]);
    } finally {
      await repository.close();
      await db.close();
    }
    const row = listJson().find((d) => d.devEui === devEui);
    expect(row).toMatchObject({
      lastSeen: new Date(now - 60_000).toISOString(),
      rssi: -73,
      snr: 6.25,
      battery: 50,
      fCntUp: 41,
      uplinks24h: 3,
      lastError: 'decodeUplink threw: bad byte',
    });
    const table = maverick('device', 'list', '--data-dir', dataDir);
    expect(table.stdout).toMatch(/last seen.*rssi.*snr.*battery.*fCntUp.*24h.*last error/);
    expect(table.stdout).toMatch(/0000000000000a01.*-73.*6\.25.*50%.*41.*3.*decodeUplink threw/);
  }, 60_000);
});
