/**
 * ONE contract, run against every radio backend through a harness per backend
 * (the node-serialport pattern: the same suite over the mock binding and a real
 * port). Semtech UDP runs over real loopback sockets with the packet-forwarder
 * emulator; the serial concentrator over @serialport/binding-mock and over a
 * real socat pty pair; the single-channel modem over the mock binding.
 *
 * The contract: start → state up; an emulated uplink arrives with the right
 * payload, frequency, data rate and tmst; schedule() reaches the emulator and
 * resolves OK; an emulator-side refusal reaches the promise; stop() closes
 * everything and later schedules get NO_ROUTE.
 */
import dgram from 'node:dgram';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { SerialConcentratorBackend } from '../gateway/radio/serial-concentrator.js';
import { SingleChannelBackend } from '../gateway/radio/single-channel.js';
import type {
  DataRate,
  RadioBackend,
  RadioBackendState,
  RadioUplink,
  TxAckStatus,
  TxRequest,
} from '../proto/radio.js';
import type { TxAckErrorName } from '../proto/semtech-udp/index.js';
import { PacketForwarderEmulator } from '../simulator/packet-forwarder.js';
import { SerialConcentratorEmulator } from '../simulator/serial-concentrator.js';
import { createMockSerialLink } from '../simulator/serial-concentrator-mock-link.js';
import { socatAvailable, startPtyPair } from '../simulator/serial-concentrator-pty.js';
import { Rak3172Emulator } from '../simulator/single-channel.js';
import { waitFor } from './helpers/wait.js';

const EUI = '00800000a0001234';
const SF7: DataRate = { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 };
const FREQ = 868_100_000;

interface Harness {
  backend: RadioBackend;
  /** Sends `phy` from the emulator; returns the tmst the emulator reported, or undefined when the backend synthesises it. */
  sendUplink(phy: Uint8Array): Promise<number | undefined>;
  /** Resolves with the payload of the next downlink the emulator transmits. */
  nextDownlink(): Promise<Uint8Array>;
  /** Makes the emulator refuse the next downlink; returns the status the backend must report. */
  refuseNextDownlink(): TxAckStatus;
  /** Proves the backend released its transport after stop(). */
  assertReleased(): Promise<void>;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function nextUplink(b: RadioBackend): Promise<RadioUplink> {
  return waitFor<RadioUplink>((done) => {
    const on = (u: RadioUplink) => {
      b.off('uplink', on);
      done(u);
    };
    b.on('uplink', on);
  }, 'uplink');
}

function waitUp(b: RadioBackend): Promise<void> {
  if (b.state === 'up') return Promise.resolve();
  return waitFor<void>((done) => {
    const on = (s: { state: RadioBackendState }) => {
      if (s.state !== 'up') return;
      b.off('state', on);
      done();
    };
    b.on('state', on);
  }, 'state up');
}

async function semtechUdpHarness(): Promise<Harness> {
  const backend = new SemtechUdpBackend({ host: '127.0.0.1', port: 0, txAckTimeoutMs: 1_000 });
  await backend.start();
  const { port } = backend.address();
  let refuse: TxAckErrorName | undefined;
  const emulator = new PacketForwarderEmulator({
    port,
    gatewayEui: EUI,
    keepAliveMs: 1_000,
    txAckFor: () => {
      const status = refuse ?? 'NONE';
      refuse = undefined;
      return status;
    },
  });
  await emulator.start();
  return {
    backend,
    async sendUplink(phy) {
      const tmst = emulator.tmstNow();
      await emulator.sendUplink(phy, { frequencyHz: FREQ, dataRate: SF7, rssi: -80, snr: 7, tmst });
      return tmst;
    },
    nextDownlink: () =>
      waitFor((done) => emulator.once('downlink', (d) => done(d.txpk.phyPayload)), 'udp downlink'),
    refuseNextDownlink() {
      refuse = 'TOO_LATE';
      return 'TOO_LATE';
    },
    async assertReleased() {
      // The UDP port is free again: binding it succeeds.
      const probe = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    },
    close: async () => {
      await emulator.stop();
      await backend.stop();
    },
  };
}

function serialEmulatorHarness(
  backend: SerialConcentratorBackend,
  emulator: SerialConcentratorEmulator,
  assertReleased: () => Promise<void>,
  close: () => Promise<void>,
): Harness {
  return {
    backend,
    async sendUplink(phy) {
      return emulator.sendUplink(phy, { frequencyHz: FREQ, dataRate: SF7, rssi: -80, snr: 7 }).tmst;
    },
    nextDownlink: () =>
      waitFor((done) => emulator.once('downlink', (d) => done(d.payload)), 'serial downlink'),
    refuseNextDownlink() {
      emulator.refuseNextTx('TOO_LATE');
      return 'TOO_LATE';
    },
    assertReleased,
    close,
  };
}

async function serialMockHarness(): Promise<Harness> {
  const link = createMockSerialLink('contract');
  const emulator = new SerialConcentratorEmulator();
  emulator.attach(link.deviceSide);
  const backend = new SerialConcentratorBackend({
    path: link.path,
    gatewayEui: EUI,
    binding: link.binding,
    heartbeatMs: 200,
  });
  return serialEmulatorHarness(
    backend,
    emulator,
    async () => expect(link.hostOpen).toBe(false),
    async () => {
      await backend.stop();
      emulator.close();
    },
  );
}

let ptyCounter = 0;
async function serialPtyHarness(): Promise<Harness> {
  const base = `/tmp/maverick-contract-${process.pid}-${++ptyCounter}`;
  const pair = await startPtyPair(`${base}-host`, `${base}-mcu`);
  const device = new SerialPort({ path: pair.devicePath, baudRate: 115_200, autoOpen: false });
  device.on('error', () => {});
  await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
  const emulator = new SerialConcentratorEmulator();
  emulator.attach(device);
  const backend = new SerialConcentratorBackend({ path: pair.hostPath, gatewayEui: EUI, heartbeatMs: 200 });
  return serialEmulatorHarness(
    backend,
    emulator,
    async () => {
      // The backend opened with an exclusive lock; opening the same pty again succeeds only once it let go.
      const probe = new SerialPort({ path: pair.hostPath, baudRate: 115_200, autoOpen: false });
      await new Promise<void>((resolve, reject) => probe.open((err) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    },
    async () => {
      await backend.stop();
      emulator.close();
      if (device.isOpen) await new Promise<void>((resolve) => device.close(() => resolve()));
      await pair.close();
    },
  );
}

async function singleChannelHarness(): Promise<Harness> {
  const link = createMockSerialLink('contract-rak');
  const emulator = new Rak3172Emulator();
  emulator.attach(link.deviceSide);
  const backend = new SingleChannelBackend({
    path: link.path,
    gatewayEui: EUI,
    binding: link.binding,
    frequencyHz: FREQ,
    spreadingFactor: 7,
    commandTimeoutMs: 500,
  });
  return {
    backend,
    async sendUplink(phy) {
      emulator.sendUplink(phy, { rssi: -80, snr: 7 });
      return undefined; // no concentrator counter: the backend stamps its host clock
    },
    nextDownlink: () => waitFor((done) => emulator.once('downlink', (d) => done(d.payload)), 'P2P downlink'),
    refuseNextDownlink() {
      emulator.failNextSend('AT_BUSY_ERROR');
      return 'COLLISION_PACKET';
    },
    assertReleased: async () => expect(link.hostOpen).toBe(false),
    close: () => backend.stop(),
  };
}

const hasSocat = socatAvailable();
const harnesses: [string, () => Promise<Harness>, boolean][] = [
  ['semtech-udp (loopback UDP + packet-forwarder emulator)', semtechUdpHarness, true],
  ['serial (mock binding)', serialMockHarness, true],
  [
    hasSocat ? 'serial (socat pty pair)' : 'serial (socat pty pair) SKIPPED: socat not installed',
    serialPtyHarness,
    hasSocat,
  ],
  ['single-channel RAK3172 (mock binding)', singleChannelHarness, true],
];

describe.each(harnesses)('radio backend contract: %s', (_name, makeHarness, runnable) => {
  it.skipIf(!runnable)(
    'starts up, carries an uplink and downlinks both ways, and stops cleanly',
    async () => {
      const h = await makeHarness();
      cleanups.push(() => h.close());
      const { backend } = h;
      await backend.start();
      await waitUp(backend);
      expect(backend.state).toBe('up');

      const phy = Uint8Array.from([
        0x40, 0x78, 0x56, 0x34, 0x12, 0x00, 0x05, 0x00, 0x02, 0xca, 0xfe, 9, 8, 7, 6,
      ]);
      const got = nextUplink(backend);
      const sentTmst = await h.sendUplink(phy);
      const up = await got;
      expect([...up.phyPayload]).toEqual([...phy]);
      expect(up.rx.frequencyHz).toBe(FREQ);
      expect(up.rx.dataRate).toEqual(SF7);
      expect(up.rx.gatewayEui).toBe(EUI);
      expect(up.rx.backend).toBe(backend.kind);
      if (sentTmst !== undefined) expect(up.rx.tmst).toBe(sentTmst);
      else expect(Number.isInteger(up.rx.tmst) && up.rx.tmst >= 0 && up.rx.tmst <= 0xffffffff).toBe(true);

      const down: TxRequest = {
        gatewayEui: EUI,
        // RX1 for timed backends; best-effort "now" for a modem that cannot time a transmission.
        ...(backend.capabilities.timedDownlink ? { tmst: (up.rx.tmst + 1_000_000) >>> 0 } : {}),
        frequencyHz: FREQ,
        powerDbm: 14,
        dataRate: SF7,
        codingRate: '4/5',
        invertPolarity: true,
        phyPayload: Uint8Array.from([0x60, 0x78, 0x56, 0x34, 0x12, 0x20, 0x01, 0x00, 1, 2, 3, 4]),
        id: 11,
      };
      expect(backend.capabilities.downlink).toBe(true);
      const emitted = h.nextDownlink();
      const ack = await backend.schedule(down);
      expect(ack).toMatchObject({ gatewayEui: EUI, status: 'OK' });
      expect([...(await emitted)]).toEqual([...down.phyPayload]);

      const expected = h.refuseNextDownlink();
      const refused = await backend.schedule({ ...down, id: 12, tmst: undefined });
      expect(refused.status).toBe(expected);

      await backend.stop();
      expect(backend.state).toBe('stopped');
      await h.assertReleased();
      // The contract allows either "no route to that gateway" or "this backend cannot send now".
      expect(['NO_ROUTE', 'UNSUPPORTED']).toContain((await backend.schedule({ ...down, id: 13 })).status);
    },
  );
});
