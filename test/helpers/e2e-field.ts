/**
 * End-to-end harness: the real gateway runtime (Semtech UDP backend on an
 * ephemeral loopback port, serial concentrator backend on a socat pty pair —
 * or the mock binding when socat is absent), the packet-forwarder and serial
 * MCU emulators on the far ends, a stepped simulated clock, and a real MQTT
 * client on the embedded broker collecting every event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { SemtechUdpBackend } from '../../gateway/radio/semtech-udp.js';
import type { BindingInterface } from '../../gateway/radio/serial-binding-types.cjs';
import { SerialConcentratorBackend } from '../../gateway/radio/serial-concentrator.js';
import { type GatewayRuntime, startGatewayRuntime } from '../../gateway/runtime.js';
import type { SealingOptions } from '../../gateway/sealing.js';
import { addDevice } from '../../kernel/ns/registry.js';
import type { CodecRef } from '../../kernel/ns/types.js';
import type { LogFn, Logger } from '../../proto/log.js';
import { EVENT_FILTER } from '../../proto/mqtt/topics.js';
import type { TxAckErrorName, Txpk } from '../../proto/semtech-udp/index.js';
import type { SimClock } from '../../simulator/clock.js';
import type { FarmDeviceSpec } from '../../simulator/farm.js';
import { PacketForwarderEmulator } from '../../simulator/packet-forwarder.js';
import { acceptEveryTxpk, SerialRadioPath, UdpRadioPath } from '../../simulator/radio-link.js';
import { SerialConcentratorEmulator } from '../../simulator/serial-concentrator.js';
import { createMockSerialLink } from '../../simulator/serial-concentrator-mock-link.js';
import { socatAvailable, startPtyPair } from '../../simulator/serial-concentrator-pty.js';
import { EVENT_MESSAGES, parseStrict } from './chirpstack-schema.js';

/** Why `json` is not a valid ChirpStack event of `type`, or undefined when it is. */
export function chirpStackViolation(type: string, json: unknown): string | undefined {
  const message = EVENT_MESSAGES[type as keyof typeof EVENT_MESSAGES];
  if (!message) return `no ChirpStack event type ${type}`;
  try {
    parseStrict(message, json);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

import { eventually } from './wait.js';

export const MQTT_USER = 'farm-app';
export const MQTT_PASSWORD = 'e2e-secret-0123456789';
export const UDP_GATEWAY = 'aa555a0000000001';
export const SERIAL_GATEWAY = 'b827ebfffe000002';
/** socat on PATH (CI installs it); MAVERICK_E2E_SERIAL=mock forces the mock binding to check the fallback. */
export const hasSocat = process.env.MAVERICK_E2E_SERIAL !== 'mock' && socatAvailable();
/** For test names: which serial line the suite runs on. */
export const serialLineLabel = hasSocat
  ? 'a socat pty pair'
  : 'the MOCK serial binding (socat not installed, or MAVERICK_E2E_SERIAL=mock)';

type Cleanup = () => Promise<unknown> | unknown;

/** Runs cleanups in reverse order, each once, never throwing. */
export class Cleanups {
  private readonly fns: Cleanup[] = [];
  add(fn: Cleanup): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // cleanup is best effort; the test already has its verdict
      }
    }
  }
}

export function tempDataDir(cleanups: Cleanups): string {
  const dir = mkdtempSync(join(tmpdir(), 'maverick-e2e-'));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The serial cable: a socat pty pair when available, else an in-process mock link. */
export interface SerialLine {
  kind: 'socat' | 'mock';
  hostPath: string;
  binding?: BindingInterface;
  /** The MCU end, for the emulator to attach to. */
  deviceSide: Duplex;
}

export async function openSerialLine(cleanups: Cleanups, tag: string): Promise<SerialLine> {
  if (!hasSocat) {
    const link = createMockSerialLink(tag);
    return { kind: 'mock', hostPath: link.path, binding: link.binding, deviceSide: link.deviceSide };
  }
  const base = join(tmpdir(), `maverick-e2e-${tag}-${process.pid}-${Date.now()}`);
  const pair = await startPtyPair(`${base}-host`, `${base}-mcu`);
  cleanups.add(() => pair.close());
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: pair.devicePath, baudRate: 115_200, autoOpen: false });
  port.on('error', () => {}); // the pty closing at teardown is expected
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  cleanups.add(() => (port.isOpen ? new Promise<void>((r) => port.close(() => r())) : undefined));
  return { kind: 'socat', hostPath: pair.hostPath, deviceSide: port };
}

export interface GatewayUnderTest {
  runtime: GatewayRuntime;
  udp: SemtechUdpBackend;
  serial: SerialConcentratorBackend;
  udpPort: number;
}

/** Starts the gateway runtime with both backends; `udpPort` 0 picks a free port (a restart reuses the old one). */
export async function startGateway(
  dataDir: string,
  line: SerialLine,
  options: { udpPort?: number; logger?: Logger; sealing?: SealingOptions } = {},
): Promise<GatewayUnderTest> {
  const udpPort = options.udpPort ?? 0;
  const udp = new SemtechUdpBackend({ host: '127.0.0.1', port: udpPort, txAckTimeoutMs: 2_000 });
  const serial = new SerialConcentratorBackend({
    path: line.hostPath,
    gatewayEui: SERIAL_GATEWAY,
    heartbeatMs: 500,
    reconnect: { initialMs: 50, maxMs: 500 },
    ...(line.binding ? { binding: line.binding } : {}),
  });
  const runtime = await startGatewayRuntime({
    dataDir,
    gatewayId: UDP_GATEWAY,
    regionId: 'EU868',
    radios: [udp, serial],
    mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: MQTT_USER, password: MQTT_PASSWORD },
    synchronous: 'NORMAL',
    dedupWindowMs: 20,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.sealing ? { sealing: options.sealing } : {}),
  });
  await waitUntil(() => serial.state === 'up', 10_000, 'the serial backend to see the MCU');
  return { runtime, udp, serial, udpPort: udp.address().port };
}

export interface Emulators {
  forwarder: PacketForwarderEmulator;
  mcu: SerialConcentratorEmulator;
}

/** The MCU on the far end of the serial line; start it before the gateway so HELLO is answered. */
export function startMcu(cleanups: Cleanups, line: SerialLine): SerialConcentratorEmulator {
  const mcu = new SerialConcentratorEmulator({ txAck: acceptEveryTxpk });
  mcu.attach(line.deviceSide);
  cleanups.add(() => mcu.close());
  return mcu;
}

export async function startForwarder(
  cleanups: Cleanups,
  udpPort: number,
  txAckFor?: (txpk: Txpk) => TxAckErrorName,
): Promise<PacketForwarderEmulator> {
  const forwarder = new PacketForwarderEmulator({
    ...(txAckFor ? { txAckFor } : {}),
    port: udpPort,
    gatewayEui: UDP_GATEWAY,
    ackTimeoutMs: 2_000,
  });
  await forwarder.start();
  cleanups.add(() => forwarder.stop());
  return forwarder;
}

export function radioPaths(emulators: Emulators, clock: SimClock): [UdpRadioPath, SerialRadioPath] {
  return [
    new UdpRadioPath(emulators.forwarder, { name: 'udp', clock, tmstOffset: 0xffffffff - 30_000_000 }),
    new SerialRadioPath(emulators.mcu, SERIAL_GATEWAY, { name: 'serial', clock, tmstOffset: 123_456 }),
  ];
}

export async function registerFarm(
  runtime: GatewayRuntime,
  specs: readonly FarmDeviceSpec[],
  codecFor: (spec: FarmDeviceSpec) => CodecRef = () => ({ kind: 'cayenne-lpp' }),
): Promise<void> {
  for (const spec of specs) {
    await addDevice(runtime.repository, {
      devEui: spec.devEui,
      name: spec.name,
      applicationId: 'farm',
      regionId: 'EU868',
      codec: codecFor(spec),
      activation:
        spec.activation === 'otaa'
          ? { mode: 'otaa', joinEui: spec.joinEui, appKey: spec.appKey }
          : { mode: 'abp', devAddr: spec.devAddr, nwkSKey: spec.nwkSKey, appSKey: spec.appSKey },
    });
  }
}

export interface ReceivedEvent {
  topic: string;
  type: string;
  devEui: string;
  json: Record<string, unknown>;
}

/** A real MQTT client on the embedded broker, subscribed to every device event. */
export class EventListener {
  readonly events: ReceivedEvent[] = [];
  /**
   * Every event that does not parse as its ChirpStack message under strict
   * proto3 JSON rules (test/helpers/chirpstack-schema.ts); each suite using
   * the listener checks it is empty, so every event kind any end-to-end
   * suite produces is held to ChirpStack's published schema.
   */
  readonly schemaViolations: string[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const m = /^application\/[^/]+\/device\/([0-9a-f]{16})\/event\/(\w+)$/.exec(topic);
      if (!m) return;
      const event: ReceivedEvent = {
        topic,
        devEui: m[1] as string,
        type: m[2] as string,
        json: JSON.parse(payload.toString()),
      };
      const violation = chirpStackViolation(event.type, event.json);
      if (violation) this.schemaViolations.push(`${topic}: ${violation}`);
      this.events.push(event);
    });
  }

  static async connect(runtime: GatewayRuntime, cleanups: Cleanups): Promise<EventListener> {
    const port = runtime.broker?.port;
    const client = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      { username: MQTT_USER, password: MQTT_PASSWORD, reconnectPeriod: 0, connectTimeout: 5_000 },
      false,
    );
    cleanups.add(() => client.endAsync(true));
    await client.subscribeAsync(EVENT_FILTER, { qos: 0 });
    return new EventListener(client);
  }

  of(type: string): ReceivedEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}

/** The suites' bounded wait (test/helpers/wait.ts) under the name the end-to-end suites use. */
export function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return eventually(cond, timeoutMs, what);
}

/**
 * Steps the simulated clock until `until()` holds, letting the gateway
 * process each step's frames before the next (its dedup window and store
 * batch run in real time): after a step that put frames on the air it waits
 * `settleMs` (so copies from several paths meet in one dedup window), then
 * flushes the network server. Bounded by simulated and real time.
 */
export async function runFarm(
  step: {
    clock: SimClock;
    gateway: () => GatewayRuntime;
    until: () => boolean;
    transmissions?: () => number;
    progress?: () => unknown;
  },
  options: { stepMs: number; maxSimMs: number; maxRealMs: number; settleMs?: number },
): Promise<{ steps: number; realMs: number }> {
  const started = Date.now();
  const simEnd = step.clock.now() + options.maxSimMs;
  let steps = 0;
  while (!step.until()) {
    const why =
      step.clock.now() >= simEnd
        ? `${options.maxSimMs} simulated ms`
        : Date.now() - started > options.maxRealMs
          ? `${options.maxRealMs} real ms`
          : undefined;
    if (why) {
      const progress = JSON.stringify(step.progress?.() ?? {});
      const gateway = JSON.stringify(step.gateway().counters());
      throw new Error(`farm not done after ${why} (${steps} steps); farm: ${progress}; gateway: ${gateway}`);
    }
    const before = step.transmissions?.() ?? 0;
    await step.clock.advance(options.stepMs);
    if (options.settleMs && (step.transmissions?.() ?? 0) !== before) await sleep(options.settleMs);
    await step.gateway().ns.settle();
    steps++;
  }
  return { steps, realMs: Date.now() - started };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
  /** Date.now() when it was logged. */
  at: number;
}

/**
 * A Logger that keeps warn-and-above lines, to check that rejections are
 * logged; with `everyLevel`, every line with the child loggers' bindings (for
 * a test that prints what happened when it fails).
 */
export function captureLogger(lines: LogLine[], options: { everyLevel?: boolean } = {}): Logger {
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string, keep: boolean): LogFn =>
      (a: Record<string, unknown> | string, b?: string) => {
        if (!keep && !options.everyLevel) return;
        const fields = typeof a === 'string' ? { ...bindings } : { ...bindings, ...a };
        lines.push({ level, msg: typeof a === 'string' ? a : (b ?? ''), fields, at: Date.now() });
      };
    return {
      trace: at('trace', false),
      debug: at('debug', false),
      info: at('info', false),
      warn: at('warn', true),
      error: at('error', true),
      fatal: at('fatal', true),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}
