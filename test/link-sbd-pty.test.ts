/**
 * The SBD modem driver on a real serial port: `openSbdModem` (node-serialport,
 * 19200 baud) on one end of a socat pty pair, the AT emulator on the other,
 * through the kernel's tty layer as over a RockBLOCK's USB-UART. Skipped only
 * when socat is absent (CI installs it).
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { openSbdModem } from '../gateway/link/sbd-modem.js';
import { SbdModemEmulator } from '../simulator/sbd-modem.js';
import { socatAvailable, startPtyPair } from '../simulator/serial-concentrator-pty.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('SBD modem over a socat pty pair', () => {
  it.skipIf(!socatAvailable())(
    'sends MO messages and reads MT messages through a real serial port',
    async () => {
      const base = `/tmp/maverick-sbd-${process.pid}`;
      const pair = await startPtyPair(`${base}-host`, `${base}-modem`);
      cleanups.push(() => pair.close());
      const device = new SerialPort({ path: pair.devicePath, baudRate: 19_200, autoOpen: false });
      device.on('error', () => {});
      await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
      cleanups.push(
        () => new Promise<void>((resolve) => (device.isOpen ? device.close(() => resolve()) : resolve())),
      );
      const delivered: Uint8Array[] = [];
      const emulator = new SbdModemEmulator(device, {
        deliver: (mo) => {
          delivered.push(mo);
          return [Uint8Array.of(0x11, ...mo.subarray(0, 4), 0)];
        },
      });
      cleanups.push(() => emulator.close());
      const modem = await openSbdModem(pair.hostPath, { commandTimeoutMs: 3000, sessionTimeoutMs: 3000 });
      cleanups.push(() => modem.close());
      const received: Uint8Array[] = [];
      modem.onMessage((m) => received.push(m));
      expect(await modem.isUsable()).toBe(true);
      const message = new Uint8Array(340).map((_, i) => (i * 13) & 0xff);
      await modem.send(message);
      await modem.poll();
      expect(delivered).toHaveLength(1);
      expect(Buffer.from(delivered[0]!).equals(Buffer.from(message))).toBe(true);
      expect(received).toEqual([Uint8Array.of(0x11, ...message.subarray(0, 4), 0)]);
      expect(modem.counters).toMatchObject({ moMessages: 1, mtMessages: 1 });
    },
  );
});
