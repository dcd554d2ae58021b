import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { SbdModemEmulator } from '../../simulator/sbd-modem.js';
import { createSerialPair } from '../../simulator/sbd-modem-pair.js';
import { SbdModem } from './sbd-modem.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function pair(options: Partial<ConstructorParameters<typeof SbdModemEmulator>[1]> = {}) {
  const [gatewayEnd, modemEnd] = createSerialPair();
  const delivered: Uint8Array[] = [];
  const emulator = new SbdModemEmulator(modemEnd, {
    deliver: (m) => {
      delivered.push(m);
      return [];
    },
    ...options,
  });
  const modem = new SbdModem(gatewayEnd, { commandTimeoutMs: 500, sessionTimeoutMs: 500 });
  closers.push(() => {
    modem.close();
    emulator.close();
  });
  await modem.init();
  return { modem, emulator, delivered };
}

describe('SbdModem against the AT emulator', () => {
  it('sends an MO message with SBDWB + SBDIX and reads a queued MT message with SBDRB', async () => {
    const { modem, emulator, delivered } = await pair();
    const received: Uint8Array[] = [];
    modem.onMessage((m) => received.push(m));
    emulator.queueMt(Uint8Array.of(0x11, 1, 2, 3, 4, 0));
    await modem.send(new Uint8Array(340).fill(0xab));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.length).toBe(340);
    expect(received).toEqual([Uint8Array.of(0x11, 1, 2, 3, 4, 0)]);
    expect(emulator.counters.credits).toBe(7 + 1);
    // A mailbox check after a send does not send the MO again (SBDD0 cleared it).
    await modem.poll();
    expect(delivered).toHaveLength(1);
  });

  it('reports signal bars and is not usable below the threshold, so no credit is spent', async () => {
    const { modem, emulator } = await pair({ signalBars: 1 });
    expect(await modem.signal()).toBe(1);
    expect(await modem.isUsable()).toBe(false);
    emulator.signalBars = 4;
    expect(await modem.isUsable()).toBe(true);
    expect(emulator.counters.credits).toBe(0);
  });

  it('turns a failed session into LinkDown and an oversize message into LinkModem', async () => {
    const { modem } = await pair({ signalBars: 0 });
    const down = await modem.send(Uint8Array.of(1, 2, 3)).catch((e: unknown) => e);
    expect(isMaverickError(down, ErrorCode.LinkDown)).toBe(true);
    const big = await modem.send(new Uint8Array(341)).catch((e: unknown) => e);
    expect(isMaverickError(big, ErrorCode.LinkModem)).toBe(true);
  });

  it('times out on a silent modem and rejects garbled answers without crashing', async () => {
    const silent = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const mute = new SbdModem(silent, { commandTimeoutMs: 100 });
    closers.push(() => mute.close());
    expect(isMaverickError(await mute.init().catch((e: unknown) => e), ErrorCode.LinkTimeout)).toBe(true);

    const liar = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        const cmd = chunk.toString('latin1').trim();
        this.push(
          cmd === 'AT+SBDIX'
            ? '\r\n+SBDIX: banana\r\nOK\r\n'
            : cmd === 'AT+CSQ'
              ? '\r\n+CSQ:77\r\nOK\r\n'
              : '\r\nOK\r\n',
        );
        cb();
      },
    });
    const modem = new SbdModem(liar, { commandTimeoutMs: 200 });
    closers.push(() => modem.close());
    expect(isMaverickError(await modem.signal().catch((e: unknown) => e), ErrorCode.LinkModem)).toBe(true);
    expect(isMaverickError(await modem.poll().catch((e: unknown) => e), ErrorCode.LinkModem)).toBe(true);
  });
});
