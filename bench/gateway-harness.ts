/**
 * A real `maverick run` for benchmarks: set up with `maverick init` in a temp
 * dir, ABP devices registered in its store, spawned from dist/ (bin/maverick.js)
 * and fed PUSH_DATA over loopback UDP paced as a packet forwarder sends them
 * (on a clock, never waiting for PUSH_ACK). Stored uplinks are counted from
 * the gateway's MQTT `up` events, which it publishes only after the uplink is
 * durably stored. Resident memory is read from /proc/<pid>/status.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { withGatewayStore } from '../gateway/store-access.js';
import { encodeCayenneLpp } from '../kernel/codec/index.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import { encodePullData, encodePushData, encodeTxAck, PacketId } from '../proto/semtech-udp/index.js';
import { deployedEnvironment, deployedNodeOptions } from './deployed-environment.js';
import { type FleetDevice, fleetDevice, registerFleet, rx } from './ingest-fleet.js';

const projectRoot = resolve(import.meta.dirname, '..');
const cli = join(projectRoot, 'bin', 'maverick.js');
const GATEWAY_EUI = 'b827ebfffe00be01';

/** A free port on loopback (bind 0, read it, release it). */
async function freePort(kind: 'udp4' | 'tcp'): Promise<number> {
  if (kind === 'udp4') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** What a soil probe sends (Cayenne LPP, 4 channels): the same payload as the ingest bench. */
const payload = encodeCayenneLpp({
  temperatureSensor: { '1': 21.5 },
  humiditySensor: { '2': 48 },
  analogInput: { '3': 3.3 },
  gpsLocation: { '4': { latitude: 52.3702, longitude: 4.8952, altitude: 2 } },
});

const { gatewayEui: _gatewayEui, backend: _backend, ...rxMeta } = rx;

export interface GatewaySetup {
  dataDir: string;
  udpPort: number;
  mqttPort: number;
  metricsPort: number;
  password: string;
  devices: FleetDevice[];
  /** One simulated radio per registered device, counting its FCnt across runs. */
  radios: TestDevice[];
}

/** `maverick init` in a temp dir, free ports in its maverick.toml, `devices` ABP devices registered. */
export async function setUpGateway(deviceCount: number): Promise<GatewaySetup> {
  if (!existsSync(join(projectRoot, 'dist', 'cli', 'entry.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
  }
  const dataDir = join(mkdtempSync(join(tmpdir(), 'maverick-gw-bench-')), 'gw');
  const init = spawnSync(
    process.execPath,
    [cli, 'init', '--data-dir', dataDir, '--gateway-id', GATEWAY_EUI],
    {
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) throw new Error(`maverick init failed: ${init.stderr}`);
  const [udpPort, mqttPort, metricsPort, consolePort] = [
    await freePort('udp4'),
    await freePort('tcp'),
    await freePort('tcp'),
    await freePort('tcp'),
  ];
  const configFile = join(dataDir, 'maverick.toml');
  // `maverick init`'s defaults, each replaced by a free port (benches may run side by side).
  const settings: [string, string][] = [
    ['bind = "127.0.0.1:1700"', `bind = "127.0.0.1:${udpPort}"`],
    ['port = 1883', `port = ${mqttPort}`],
    ['bind = "127.0.0.1:8868"', `bind = "127.0.0.1:${metricsPort}"`],
    ['port = 8088', `port = ${consolePort}`],
    ['level = "info"', 'level = "warn"'],
  ];
  let config = readFileSync(configFile, 'utf8');
  for (const [from, to] of settings) {
    if (!config.includes(from)) throw new Error(`maverick init's config no longer holds ${from}`);
    config = config.replace(from, to);
  }
  writeFileSync(configFile, config);
  const password = readFileSync(join(dataDir, 'mqtt-password'), 'utf8').trim();
  const devices = Array.from({ length: deviceCount }, (_, i) => fleetDevice(i));
  await withGatewayStore(dataDir, (_db, repository) => registerFleet(repository, devices));
  const radios = devices.map((d) => TestDevice.abp(d.devEui, d.devAddr, d.nwkSKey, d.appSKey));
  return { dataDir, udpPort, mqttPort, metricsPort, password, devices, radios };
}

export function tearDown(setup: GatewaySetup): void {
  rmSync(resolve(setup.dataDir, '..'), { recursive: true, force: true });
}

/** PUSH_DATA datagrams, one uplink each, interleaved over the first `deviceCount` devices. */
export function buildDatagrams(setup: GatewaySetup, deviceCount: number, total: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < total; i++) {
    const radio = setup.radios[i % deviceCount] as TestDevice;
    const phyPayload = radio.uplink({ fPort: 2, payload });
    const datagram = encodePushData({
      token: i & 0xffff,
      gatewayEui: GATEWAY_EUI,
      rxpk: [{ phyPayload, rx: rxMeta }],
    });
    out.push(Buffer.from(datagram));
  }
  return out;
}

export interface RunningGateway {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** `up` events seen so far. */
  stored(): number;
  stderr(): string;
  sender: Socket;
  stop(): Promise<number | null>;
}

/**
 * The NODE_OPTIONS the systemd unit runs `maverick run` with (hardware/systemd/maverick.service):
 * benchmarks measure the gateway as it is deployed.
 */
/**
 * Spawns `maverick run` from dist/ (with the unit's environment, its NODE_OPTIONS then `nodeOptions`) and
 * subscribes to its `up` events once its broker answers.
 */
export async function startGateway(
  setup: GatewaySetup,
  options: { nodeOptions?: string } = {},
): Promise<RunningGateway> {
  // MAVERICK_BENCH_GATEWAY_NODE_ARGS (e.g. --cpu-prof) reaches the gateway only, for profiling.
  const nodeArgs = (process.env.MAVERICK_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, cli, 'run', '--data-dir', setup.dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...deployedEnvironment(),
      NODE_OPTIONS: `${deployedNodeOptions()} ${options.nodeOptions ?? ''}`.trim(),
    },
  });
  // The log (stdout, level warn) and stderr: the tail is kept for error messages.
  let stderr = '';
  const keepTail = (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', keepTail);
  // MAVERICK_BENCH_GATEWAY_LOG=file keeps the gateway's whole stdout (e.g. with --trace-gc).
  const logFile = process.env.MAVERICK_BENCH_GATEWAY_LOG;
  if (logFile) child.stdout?.on('data', (chunk: string) => appendFileSync(logFile, chunk));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', keepTail);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let ups = 0;
  let client: mqtt.MqttClient | undefined;
  for (let attempt = 0; attempt < 200 && !client; attempt++) {
    if (child.exitCode !== null) throw new Error(`maverick run exited: ${stderr}`);
    try {
      client = await mqtt.connectAsync(`mqtt://127.0.0.1:${setup.mqttPort}`, {
        username: 'maverick',
        password: setup.password,
        reconnectPeriod: 0,
        connectTimeout: 1000,
      });
    } catch {
      await sleep(50);
    }
  }
  if (!client) throw new Error(`the gateway's MQTT broker never answered: ${stderr}`);
  client.on('message', () => {
    ups++;
  });
  await client.subscribeAsync('application/+/device/+/event/up', { qos: 0 });
  const sender = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
  // As a forwarder: PULL_DATA keeps a downlink route open, every PULL_RESP gets its TX_ACK,
  // and PUSH_ACKs are read and dropped (a forwarder does not wait for them).
  let pulled = false;
  sender.on('message', (msg) => {
    if (msg[3] === PacketId.PULL_ACK) pulled = true;
    if (msg[3] === PacketId.PULL_RESP) {
      const ack = encodeTxAck({ token: msg.readUInt16BE(1), gatewayEui: GATEWAY_EUI });
      sender.send(ack, setup.udpPort, '127.0.0.1');
    }
  });
  const pullData = () =>
    sender.send(encodePullData({ token: 1, gatewayEui: GATEWAY_EUI }), setup.udpPort, '127.0.0.1');
  // The radio may start after the broker: pull until the gateway answers, then every 5 s.
  for (let attempt = 0; attempt < 100 && !pulled; attempt++) {
    pullData();
    await sleep(50);
  }
  if (!pulled) throw new Error(`the gateway never answered PULL_DATA: ${stderr}`);
  const keepalive = setInterval(pullData, 5000);
  const mqttClient = client;
  return {
    child,
    pid: child.pid as number,
    startedAt,
    stored: () => ups,
    stderr: () => stderr,
    sender,
    async stop() {
      clearInterval(keepalive);
      await mqttClient.endAsync();
      sender.close();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The gateway's pipeline counters (ns, ingest, radio), from its loopback /status endpoint. */
export async function pipelineCounters(setup: GatewaySetup): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${setup.metricsPort}/status`);
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  return ((await res.json()) as { pipeline?: Record<string, number> }).pipeline ?? {};
}

/**
 * Where uplinks went missing inside the gateway between two counter readings:
 * `uplinks_dropped_backlog` always, and every other drop and failure counter that moved
 * (rejections, failed or conflicting commits, datagrams the UDP backend refused), as "name +n".
 */
export function lossesBetween(before: Record<string, number>, after: Record<string, number>): string {
  const lossy = /dropped|rejected|failed|conflict|error|malformed|invalid|unknown|foreign/i;
  const always = 'uplinks_dropped_backlog';
  const moved = Object.keys({ ...after, [always]: 0 })
    .filter((name) => name === always || (lossy.test(name) && (after[name] ?? 0) !== (before[name] ?? 0)))
    .sort()
    .map((name) => `${name} +${(after[name] ?? 0) - (before[name] ?? 0)}`);
  return moved.join(', ');
}

/** Resident set size and its high-water mark of a process, in MB (/proc/<pid>/status). */
export function residentMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** CPU time a process has used so far (user + system, all its threads), in seconds (/proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The kernel's count of UDP datagrams dropped because a receive buffer was full (all sockets). */
export function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Datagrams the kernel dropped on the socket bound to `port` (the `drops` column of /proc/net/udp). */
export function socketDrops(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(hexPort)) return Number(fields.at(-1));
  }
  return Number.NaN;
}

/**
 * Sends `datagrams` at `rate` per second on a clock (as a forwarder does:
 * never waiting for an answer), sampling RSS every 100 ms. Resolves when all
 * were sent and the stored count stopped growing (or reached the total).
 */
export async function feed(
  gateway: RunningGateway,
  port: number,
  datagrams: Buffer[],
  rate: number,
): Promise<{ sendSeconds: number; drainSeconds: number; stored: number; peakRssMb: number }> {
  const before = gateway.stored();
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) {
      peakRssMb = Math.max(peakRssMb, residentMb(gateway.pid).rss);
    }
  }, 100);
  const assertRunning = () => {
    if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) {
      throw new Error(
        `maverick run exited (${gateway.child.exitCode ?? gateway.child.signalCode}) while being fed: ${gateway.stderr()}`,
      );
    }
  };
  const start = performance.now();
  let sent = 0;
  try {
    while (sent < datagrams.length) {
      const due = Math.min(datagrams.length, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) gateway.sender.send(datagrams[sent++] as Buffer, port, '127.0.0.1');
      await sleep(2);
      assertRunning();
    }
    const sendSeconds = (performance.now() - start) / 1000;
    // Drain: until every uplink is stored, or nothing new was stored for 5 s.
    let last = gateway.stored();
    let lastChange = performance.now();
    while (gateway.stored() - before < datagrams.length && performance.now() - lastChange < 5000) {
      await sleep(50);
      assertRunning();
      if (gateway.stored() !== last) {
        last = gateway.stored();
        lastChange = performance.now();
      }
    }
    const stored = gateway.stored() - before;
    const drainSeconds = (Math.min(performance.now(), lastChange) - start) / 1000 - sendSeconds;
    return { sendSeconds, drainSeconds: Math.max(0, drainSeconds), stored, peakRssMb };
  } finally {
    clearInterval(sampler);
  }
}

/** Raw better-sqlite3 (WAL + FULL) inserting the rows the gateway stored, 500 a transaction: rows/s. */
export async function rawInsertRate(setup: GatewaySetup, scratch: string): Promise<number> {
  const { createRequire } = await import('node:module');
  type Db = {
    pragma(s: string): unknown;
    exec(s: string): void;
    prepare(s: string): { run(...a: unknown[]): unknown; all(): { id: string; data: string }[] };
    transaction<A>(fn: (arg: A) => void): (arg: A) => void;
    close(): void;
  };
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Db;
  const source = new Database(join(setup.dataDir, 'store', 'gateway.sqlite'));
  // The newest schema version's table ("uplinks-v<version>").
  const tables = source
    .prepare(
      "SELECT name AS id, '' AS data FROM sqlite_master WHERE type = 'table' AND name LIKE 'uplinks-v%'",
    )
    .all()
    .map((t) => t.id)
    .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)));
  const rows = source.prepare(`SELECT id, data FROM "${tables.at(-1)}"`).all();
  source.close();
  const parsed = rows.map((row) => ({
    ...row,
    doc: JSON.parse(row.data) as { devEui: string; receivedAt: number },
  }));
  const db = new Database(scratch);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE uplinks (id TEXT PRIMARY KEY, devEui TEXT, receivedAt INTEGER, data TEXT)');
  const insert = db.prepare('INSERT INTO uplinks VALUES (?, ?, ?, ?)');
  const batch = db.transaction((slice: typeof parsed) => {
    for (const row of slice) insert.run(row.id, row.doc.devEui, row.doc.receivedAt, row.data);
  });
  const start = performance.now();
  for (let i = 0; i < parsed.length; i += 500) batch(parsed.slice(i, i + 500));
  const rate = (rows.length * 1000) / (performance.now() - start);
  db.close();
  return rate;
}
