/**
 * The DirectIP receiver against real loopback connections: what it confirms,
 * what it refuses, and that a peer cannot hold it or crash it.
 */
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMoMessage, type MoHeader } from '../../proto/link/directip.js';
import { DirectIpReceiver, type DirectIpReceiverOptions } from './directip-receiver.js';

const header: MoHeader = {
  cdrReference: 7,
  imei: '300234010753370',
  sessionStatus: 0,
  momsn: 1,
  mtmsn: 0,
  timeOfSession: 1_700_000_000,
};
const receivers: DirectIpReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

async function start(overrides: Partial<DirectIpReceiverOptions> = {}) {
  const payloads: { imei: string; payload: number[] }[] = [];
  const mt: Uint8Array[][] = [];
  const receiver = await DirectIpReceiver.start({
    port: 0,
    gatewayForImei: (imei) => (imei === header.imei ? 'gw-1' : undefined),
    onPayload: async (imei, payload) => {
      payloads.push({ imei, payload: [...payload] });
      return [Uint8Array.of(0x11, 1, 2, 3, 4, 0)];
    },
    onMobileTerminated: (_imei, _gw, messages) => {
      mt.push(messages);
    },
    ...overrides,
  });
  receivers.push(receiver);
  return { receiver, payloads, mt };
}

/** Sends bytes on one connection; resolves with what came back when the receiver closed it. */
function exchange(port: number, ...parts: Uint8Array[]): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const got: number[] = [];
    socket.on('connect', () => {
      for (const p of parts) socket.write(p);
    });
    socket.on('data', (c: Buffer) => got.push(...c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got));
  });
}

describe('DirectIpReceiver', () => {
  it('confirms a message after its payload is taken, also when it arrives in pieces, and hands on the MT answer', async () => {
    const { receiver, payloads, mt } = await start();
    const bytes = encodeMoMessage({ header, payload: Uint8Array.of(9, 8, 7) });
    const reply = await exchange(
      receiver.port,
      bytes.subarray(0, 2),
      bytes.subarray(2, 20),
      bytes.subarray(20),
    );
    expect(reply).toEqual([1, 0, 4, 5, 0, 1, 1]);
    expect(payloads).toEqual([{ imei: header.imei, payload: [9, 8, 7] }]);
    expect(mt).toHaveLength(1);
    expect(receiver.stats).toMatchObject({ messages: 1, confirmed: 1 });
  });

  it('confirms and drops messages of unknown IMEIs and of failed sessions; confirms failure when the store fails', async () => {
    let failing = false;
    const { receiver, payloads } = await start({
      onPayload: async () => {
        if (failing) throw new Error('store down');
        return [];
      },
    });
    const stranger = encodeMoMessage({
      header: { ...header, imei: '300234010000000' },
      payload: Uint8Array.of(1),
    });
    expect(await exchange(receiver.port, stranger)).toEqual([1, 0, 4, 5, 0, 1, 1]);
    const failedSession = encodeMoMessage({
      header: { ...header, sessionStatus: 13 },
      payload: Uint8Array.of(1),
    });
    expect(await exchange(receiver.port, failedSession)).toEqual([1, 0, 4, 5, 0, 1, 1]);
    expect(payloads).toEqual([]);
    failing = true;
    const ok = encodeMoMessage({ header, payload: Uint8Array.of(1) });
    expect(await exchange(receiver.port, ok)).toEqual([1, 0, 4, 5, 0, 1, 0]);
    expect(receiver.stats).toMatchObject({ unknownImei: 1, failed: 1 });
  });

  it('closes without a confirmation on malformed bytes, extra bytes, or a peer that stalls', async () => {
    const { receiver, payloads } = await start({ timeoutMs: 200 });
    expect(await exchange(receiver.port, Uint8Array.of(2, 0, 40))).toEqual([]);
    expect(await exchange(receiver.port, Uint8Array.of(1, 0xff, 0xff))).toEqual([]);
    const bytes = encodeMoMessage({ header, payload: Uint8Array.of(1) });
    expect(await exchange(receiver.port, Uint8Array.from([...bytes, 0, 0]))).toEqual([]);
    expect(await exchange(receiver.port, bytes.subarray(0, 10))).toEqual([]); // then silence: the deadline closes it
    expect(payloads).toEqual([]);
    expect(receiver.stats.failed).toBe(3);
    // Still serving.
    expect(await exchange(receiver.port, bytes)).toEqual([1, 0, 4, 5, 0, 1, 1]);
  });

  it('takes only allowed addresses, and will not listen beyond loopback for anyone', async () => {
    const { receiver, payloads } = await start({ allowFrom: ['192.0.2.10'] });
    expect(await exchange(receiver.port, encodeMoMessage({ header, payload: Uint8Array.of(1) }))).toEqual([]);
    expect(receiver.stats.refused).toBe(1);
    expect(payloads).toEqual([]);
    await expect(
      DirectIpReceiver.start({
        host: '0.0.0.0',
        port: 0,
        gatewayForImei: () => undefined,
        onPayload: async () => [],
      }),
    ).rejects.toThrow(/allow_from/);
  });
});
