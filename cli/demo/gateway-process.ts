/**
 * The real gateway process of the demo: `maverick run` as a child, set up
 * with `maverick init`'s own code, talking to the field over loopback
 * sockets and a pty, and to the regional node through the emulated link.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { configPath, initSetup, parseConfigText, renderConfig } from '../../gateway/config/index.js';
import { readStatusToken } from '../../gateway/status/token.js';
import { withGatewayStore } from '../../gateway/store-access.js';
import { putPlot } from '../../kernel/db/plots.js';
import { addDevice } from '../../kernel/ns/registry.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { RegionId } from '../../proto/regions/index.js';
import type { FarmDeviceSpec } from '../../simulator/farm.js';
import { FORWARDER_EUI } from './field.js';

export const DEMO_GATEWAY_ID = 'b827ebfffe00d0e0';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A UDP port free on 127.0.0.1 now, for the gateway's Semtech socket. A port free for TCP
 * (freePort) may be held by a UDP socket (another gateway, a test's forwarder): the gateway then
 * fails to bind and the demo ends before it began.
 */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** The plot the demo builds its evidence pack for (a polygon: above 4 ha). */
export const DEMO_EVIDENCE_PLOT = 'north-field';

/** Two plots: a small one (a point is enough under EUDR) and a large one (a polygon). */
const PLOTS = [
  {
    id: 'north-field',
    name: 'North field',
    areaHa: 12.5,
    geometry: {
      type: 'Polygon' as const,
      coordinates: [
        [
          [11.5012, 48.1501],
          [11.5102, 48.1501],
          [11.5102, 48.1552],
          [11.5012, 48.1552],
          [11.5012, 48.1501],
        ] as [number, number][],
      ],
    },
  },
  {
    id: 'orchard',
    name: 'Orchard',
    areaHa: 3.2,
    geometry: { type: 'Point' as const, coordinates: [11.4931, 48.1477] as [number, number] },
  },
];

export interface GatewaySetup {
  dataDir: string;
  udpPort: number;
  mqttPort: number;
  metricsUrl: string;
  mqttPassword: string;
}

/** The gateway's satellite modem in the demo: a pty path and the day's satellite byte budget. */
export interface DemoSatelliteConfig {
  path: string;
  dailyBytes: number;
}

export async function setUpGateway(
  root: string,
  specs: FarmDeviceSpec[],
  regionalNodeKey: string,
  satellite?: DemoSatelliteConfig,
  region: RegionId = 'EU868',
): Promise<GatewaySetup> {
  const dataDir = join(root, 'gateway');
  const mqttPassword = `demo-${Math.random().toString(36).slice(2, 12)}`;
  await initSetup({ dataDir, gatewayId: DEMO_GATEWAY_ID, region, mqttPassword, regionalNodeKey });
  const [udpPort, mqttPort, metricsPort] = [await freeUdpPort(), await freePort(), await freePort()];
  // The demo seals on simulated hours (through POST /seal), not on the wall clock. The file is
  // edited through the config's own parser and renderer, so the demo's values are validated too.
  const file = configPath(dataDir);
  const config = parseConfigText(readFileSync(file, 'utf8'), file, {
    metrics: { bind: `127.0.0.1:${metricsPort}` },
    sealer: { interval_minutes: 10080 },
    // The emulated packet forwarder announces its own gateway_ID: allow it (radio.udp.gateways).
    radio: { udp: { gateways: [FORWARDER_EUI] } },
    // The demo runs unattended (and in parallel in tests): no console on a fixed port.
    console: { enabled: false },
    ...(satellite
      ? {
          regional: {
            links: ['mqtt', 'satellite'],
            sbd_path: satellite.path,
            sbd_baud: 19200,
            satellite_daily_bytes: satellite.dailyBytes,
          },
        }
      : {}),
  });
  writeFileSync(file, renderConfig(config));
  await withGatewayStore(dataDir, async (db, repository) => {
    for (const plot of PLOTS) await putPlot(db, plot);
    for (const [i, spec] of specs.entries()) {
      await addDevice(repository, {
        devEui: spec.devEui,
        name: spec.name,
        applicationId: 'farm',
        regionId: region,
        codec: { kind: 'cayenne-lpp' },
        plotId: PLOTS[i % PLOTS.length]!.id,
        activation:
          spec.activation === 'otaa'
            ? { mode: 'otaa', joinEui: spec.joinEui, appKey: spec.appKey }
            : { mode: 'abp', devAddr: spec.devAddr, nwkSKey: spec.nwkSKey, appSKey: spec.appSKey },
      });
    }
  });
  return { dataDir, udpPort, mqttPort, metricsUrl: `http://127.0.0.1:${metricsPort}`, mqttPassword };
}

export interface GatewayProcess {
  child: ChildProcess;
  logFile: string;
  /** Asks the running gateway to seal now; resolves with the sealed bundles. */
  seal(): Promise<{ seq: number; uplinks: number; bytes: number }[]>;
  /** Asks the running gateway to sign the daily commitment of its latest bundle's day. */
  commit(): Promise<{ day: number; bundles: number; uplinks: number; bytes: number }[]>;
  /** Asks the running gateway to sign (and send) the period statement of its latest bundle's month so far. */
  statement(): Promise<{ fromDay: number; toDay: number; leaves: number; days: number; bytes: number }[]>;
  status(): Promise<{
    outbox: { depth: number };
    uplinks: { received: number };
    links: Record<string, { state: string }>;
  }>;
  stop(): Promise<number | null>;
}

export async function startGatewayProcess(
  setup: GatewaySetup,
  regionalUrl: string,
  serialPath: string | undefined,
): Promise<GatewayProcess> {
  const logFile = join(setup.dataDir, 'gateway.log');
  const args = [
    ...process.execArgv,
    process.argv[1]!,
    'run',
    '--data-dir',
    setup.dataDir,
    '--udp-bind',
    `127.0.0.1:${setup.udpPort}`,
    '--mqtt-port',
    String(setup.mqttPort),
    '--regional-url',
    regionalUrl,
    ...(serialPath ? ['--serial', serialPath] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAVERICK_LOG_LEVEL: process.env.MAVERICK_LOG_LEVEL ?? 'warn' },
  });
  const log = createWriteStream(logFile);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () =>
        reject(
          new MaverickError(ErrorCode.CliUsage, `the gateway did not start within 60 s; see ${logFile}`),
        ),
      60_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('maverick running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new MaverickError(
          ErrorCode.CliUsage,
          `the gateway exited with code ${code} while starting; see ${logFile}`,
        ),
      );
    });
  });
  const post = async (path: string) => {
    // The gateway made its action token in the data dir when it started.
    const token = readStatusToken(setup.dataDir) ?? '';
    const res = await fetch(`${setup.metricsUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok)
      throw new MaverickError(
        ErrorCode.DemoFailed,
        `the demo gateway answered ${path} with HTTP ${res.status}: ${await res.text()}`,
        {
          hint: 'see the gateway log the demo wrote',
        },
      );
    return res.json();
  };
  return {
    child,
    logFile,
    seal: () => post('/seal') as Promise<{ seq: number; uplinks: number; bytes: number }[]>,
    commit: () =>
      post('/commit') as Promise<{ day: number; bundles: number; uplinks: number; bytes: number }[]>,
    statement: () =>
      post('/statement') as Promise<
        { fromDay: number; toDay: number; leaves: number; days: number; bytes: number }[]
      >,
    status: async () =>
      (await (
        await fetch(`${setup.metricsUrl}/status`, { signal: AbortSignal.timeout(10_000) })
      ).json()) as Awaited<ReturnType<GatewayProcess['status']>>,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      log.end();
      return code;
    },
  };
}
