/**
 * Acceptance: the serial concentrator backend over a real pseudo-terminal pair
 * (socat), with the native serial binding on both ends. The emulated MCU writes
 * frames into one end; the backend on the other emits uplinks with exact
 * metadata. Then socat is killed mid-stream (the cable is pulled), a new pair is
 * started on the same symlinked paths, and the backend reconnects by itself.
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialConcentratorBackend } from '../gateway/radio/serial-concentrator.js';
import type { RadioUplink } from '../proto/radio.js';
import { SerialConcentratorEmulator } from '../simulator/serial-concentrator.js';
import { type PtyPair, socatAvailable, startPtyPair } from '../simulator/serial-concentrator-pty.js';
import { waitFor, waitState } from './helpers/radio-wait.js';

const hasSocat = socatAvailable();
const EUI = 'b827ebfffe000001';
let counter = 0;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function openDeviceEnd(pair: PtyPair): Promise<SerialPort> {
  const port = new SerialPort({ path: pair.devicePath, baudRate: 115_200, autoOpen: false });
  port.on('error', () => {}); // the far end vanishing mid-test is the point of this suite
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

async function closeQuietly(port: SerialPort): Promise<void> {
  if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
}

describe('serial concentrator over a socat pty pair', () => {
  const title = hasSocat
    ? 'delivers exact uplinks, then reconnects by itself after the pty pair is replaced'
    : 'SKIPPED: socat is not installed (apt-get install socat; CI installs it)';
  it.skipIf(!hasSocat)(title, async () => {
    const base = `/tmp/maverick-pty-${process.pid}-${++counter}`;
    let pair = await startPtyPair(`${base}-host`, `${base}-mcu`);
    cleanups.push(() => pair.close());
    expect(pair.ptsPaths[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pair.ptsPaths[1]).toMatch(/^\/dev\/pts\/\d+$/);

    const emulator = new SerialConcentratorEmulator({ tmstStart: 0xffff0000 });
    cleanups.push(() => emulator.close());
    let device = await openDeviceEnd(pair);
    emulator.attach(device);

    const backend = new SerialConcentratorBackend({
      path: pair.hostPath,
      gatewayEui: EUI,
      reconnect: { initialMs: 50, maxMs: 400 },
      heartbeatMs: 200,
    });
    cleanups.push(() => backend.stop());
    await backend.start();
    await waitState(backend, 'up');

    const phy = Uint8Array.from([
      0x40, 0x04, 0x03, 0x02, 0x01, 0x00, 0x2a, 0x00, 0x0a, 0x01, 0x02, 0, 0, 0, 0,
    ]);
    const first = waitFor<RadioUplink>((done) => backend.once('uplink', done), 'first uplink');
    emulator.sendUplink(phy, {
      tmst: 4_000_000_123,
      frequencyHz: 868_300_000,
      channel: 1,
      rfChain: 0,
      dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
      codingRate: '4/5',
      rssi: -121,
      snr: -15.5,
    });
    const up = await first;
    expect([...up.phyPayload]).toEqual([...phy]);
    expect(up.rx).toEqual({
      gatewayEui: EUI,
      tmst: 4_000_000_123,
      frequencyHz: 868_300_000,
      channel: 1,
      rfChain: 0,
      dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
      codingRate: '4/5',
      rssi: -121,
      snr: -15.5,
      backend: 'serial',
    });

    // Pull the cable mid-stream: uplinks are being written while socat dies.
    const reconnecting = waitState(backend, 'reconnecting');
    const streaming = setInterval(() => emulator.sendUplink(phy), 5);
    await new Promise((r) => setTimeout(r, 30));
    await pair.close();
    clearInterval(streaming);
    await reconnecting;
    emulator.detach();
    await closeQuietly(device);

    // Plug it back in: a new pair on the same paths (new /dev/pts numbers behind the links).
    pair = await startPtyPair(`${base}-host`, `${base}-mcu`);
    cleanups.push(() => pair.close());
    device = await openDeviceEnd(pair);
    cleanups.push(() => closeQuietly(device));
    emulator.attach(device);
    await waitState(backend, 'up');

    const again = waitFor<RadioUplink>((done) => backend.once('uplink', done), 'uplink after reconnect');
    emulator.sendUplink(phy, { rssi: -64, frequencyHz: 868_500_000 });
    const after = await again;
    expect(after.rx.rssi).toBe(-64);
    expect(after.rx.frequencyHz).toBe(868_500_000);
    expect(backend.counters().disconnects).toBeGreaterThanOrEqual(1);
    expect(backend.counters().opens).toBeGreaterThanOrEqual(2);
  });
});
