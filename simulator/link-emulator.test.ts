import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../proto/errors.js';
import { MessagePipe, PassSchedule, TcpLinkProxy, VirtualClock } from './link-emulator.js';

const closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function echoServer(): Promise<Server> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => server.close(r)));
  return server;
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setTimeout(2000, () => reject(new Error('timeout')));
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed')));
  });
}

describe('TcpLinkProxy', () => {
  it('forwards, cuts every connection, refuses while cut, and restores', async () => {
    const server = await echoServer();
    const port = (server.address() as { port: number }).port;
    const proxy = await TcpLinkProxy.start({ target: { host: '127.0.0.1', port } });
    closers.push(() => proxy.close());
    expect(await roundTrip(proxy.port, 'hello')).toBe('hello');
    proxy.cut();
    await expect(roundTrip(proxy.port, 'x')).rejects.toThrow(/closed|ECONNRESET/);
    proxy.restore();
    expect(await roundTrip(proxy.port, 'again')).toBe('again');
    expect(proxy.cuts).toBe(1);
  });

  it('throttles to its bandwidth', async () => {
    const server = await echoServer();
    const port = (server.address() as { port: number }).port;
    const proxy = await TcpLinkProxy.start({ target: { host: '127.0.0.1', port }, bytesPerSecond: 2000 });
    closers.push(() => proxy.close());
    const start = Date.now();
    expect(await roundTrip(proxy.port, 'x'.repeat(200))).toHaveLength(200);
    // 200 bytes each way at 2000 B/s: at least 200 ms.
    expect(Date.now() - start).toBeGreaterThanOrEqual(180);
  });
});

describe('MessagePipe', () => {
  it('times messages at the link rate on a virtual clock and queues answers for the next session', async () => {
    const clock = new VirtualClock(0);
    const pipe = new MessagePipe({ deliver: async (m) => [m.subarray(0, 2)], bitsPerSecond: 2400, clock });
    const got: Uint8Array[] = [];
    pipe.onMessage((m) => got.push(m));
    await pipe.send(new Uint8Array(300));
    // 300 bytes at 2400 bit/s = 1 s, then the 2-byte answer.
    expect(clock.now()).toBeCloseTo(1000 + (2 * 8 * 1000) / 2400, 5);
    expect(got).toHaveLength(1);
    expect(pipe.counters).toMatchObject({ moMessages: 1, moBytes: 300, mtMessages: 1, credits: 6 + 1 });
  });

  it('is usable only inside pass windows and refuses oversize messages', async () => {
    const clock = new VirtualClock(0);
    const schedule = PassSchedule.periodic(3_600_000, 60_000, 0, 1);
    const pipe = new MessagePipe({ deliver: async () => [], clock, schedule });
    expect(await pipe.isUsable()).toBe(true);
    clock.advance(120_000);
    expect(await pipe.isUsable()).toBe(false);
    expect(
      isMaverickError(await pipe.send(Uint8Array.of(1)).catch((e: unknown) => e), ErrorCode.LinkDown),
    ).toBe(true);
    expect(schedule.nextOpen(clock.now())).toBe(3_600_000);
    clock.advance(3_600_000 - 120_000);
    expect(
      isMaverickError(await pipe.send(new Uint8Array(341)).catch((e: unknown) => e), ErrorCode.LinkModem),
    ).toBe(true);
  });

  it('loses about the configured fraction of messages', async () => {
    let n = 0;
    const pipe = new MessagePipe({
      deliver: async () => {
        n++;
        return [];
      },
      lossRate: 0.1,
      random: mulberry(3),
      clock: new VirtualClock(),
    });
    for (let i = 0; i < 1000; i++) await pipe.send(Uint8Array.of(i & 0xff));
    expect(n).toBeGreaterThan(850);
    expect(n).toBeLessThan(950);
  });
});

function mulberry(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
