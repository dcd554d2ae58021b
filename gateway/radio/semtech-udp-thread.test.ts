import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { type LogLine, recordingLogger } from '../../proto/log.test-helpers.js';
import type { RadioStateChange, RadioUplink } from '../../proto/radio.js';
import { encodePullData } from '../../proto/semtech-udp/index.js';
import { eventually } from '../../test/helpers/wait.js';
import { SemtechUdpThreadBackend } from './semtech-udp-thread.js';
import { THREAD_COUNTER_NAMES, UDP_THREAD_MAX_BATCH } from './semtech-udp-thread-protocol.js';

const running: SemtechUdpThreadBackend[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

describe('SemtechUdpThreadBackend', () => {
  it('refuses a port already bound with the same error as the in-process backend, and goes down', async () => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    const backend = new SemtechUdpThreadBackend({ host: '127.0.0.1', port: holder.address().port });
    const states: RadioStateChange[] = [];
    backend.on('state', (s) => states.push(s));
    try {
      const err = await backend.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMaverickError(err, ErrorCode.RadioBind)).toBe(true);
      expect((err as Error).message).toMatch(/cannot bind 127\.0\.0\.1:\d+ \(another process/);
      expect(backend.state).toBe('down');
      expect(states.map((s) => s.state)).toEqual(['starting', 'down']);
      expect(() => backend.address()).toThrow(/before start/);
    } finally {
      holder.close();
    }
  });

  it("logs the thread's warnings through the event loop's logger, with their fields", async () => {
    const lines: LogLine[] = [];
    const backend = new SemtechUdpThreadBackend({
      host: '127.0.0.1',
      port: 0,
      logger: recordingLogger(lines),
    });
    running.push(backend);
    await backend.start();
    expect(backend.state).toBe('up');
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    // A PUSH_DATA header with a body that is not JSON.
    client.send(Buffer.from([2, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7b]), backend.address().port, '127.0.0.1');
    await eventually(() => lines.some((l) => l.level === 'warn'));
    client.close();
    const warning = lines.find((l) => l.level === 'warn');
    expect(warning?.fields).toMatchObject({ backend: 'semtech-udp', length: 13 });
    // The PUSH_ACK's send completes after the warning; the thread's next snapshot carries it.
    await eventually(() => backend.counters().pushAcksSent === 1);
    expect(backend.counters()).toMatchObject({ datagramsReceived: 1, malformedDatagrams: 1 });
  });

  it('keeps thousands of uplinks while held (as bytes on the thread) and hands every one over in order', async () => {
    const backend = new SemtechUdpThreadBackend({ host: '127.0.0.1', port: 0 });
    running.push(backend);
    const uplinks: RadioUplink[] = [];
    backend.on('uplink', (u) => uplinks.push(u));
    await backend.start();
    backend.holdUplinks(true);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const total = 3000;
    const eui = [0xaa, 0x55, 0x5a, 0, 0, 0, 0, 1];
    for (let i = 0; i < total; i++) {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(i);
      const rxpk = [
        { tmst: i, chan: 0, rfch: 0, freq: 868.1, stat: 1, modu: 'LORA', datr: 'SF7BW125', codr: '4/5' },
      ].map((r) => ({ ...r, rssi: -40, lsnr: 9.5, size: 4, data: payload.toString('base64') }));
      const body = Buffer.from(JSON.stringify({ rxpk }));
      client.send(
        Buffer.concat([Buffer.from([2, i >> 8, i & 0xff, 0, ...eui]), body]),
        backend.address().port,
        '127.0.0.1',
      );
      // Bounded pacing: the socket's receive buffer is never the limit here.
      if (i % 500 === 499) await eventually(() => backend.counters().rxpkReceived === i + 1);
    }
    await eventually(() => backend.counters().rxpkReceived === total);
    // Held: at most the batch that was in flight when the hold came.
    expect(uplinks.length).toBeLessThanOrEqual(UDP_THREAD_MAX_BATCH);
    backend.holdUplinks(false);
    await eventually(() => uplinks.length === total);
    client.close();
    expect(uplinks.map((u) => Buffer.from(u.phyPayload).readUInt32BE(0))).toEqual([...Array(total).keys()]);
    expect(uplinks.map((u) => u.rx.tmst)).toEqual([...Array(total).keys()]);
    expect(backend.counters().uplinksDroppedThreadQueue).toBe(0);
    // Each payload owns a buffer of its size: nothing of the batch it came in (or of the
    // thread's queue) stays alive with it.
    for (const uplink of uplinks) expect(uplink.phyPayload.buffer.byteLength).toBe(4);
  });

  it('carries its counters and routes to the event loop as they change: every counter, the route a PULL_DATA opened', async () => {
    const backend = new SemtechUdpThreadBackend({ host: '127.0.0.1', port: 0 });
    running.push(backend);
    await backend.start();
    expect(Object.keys(backend.counters())).toEqual([
      ...THREAD_COUNTER_NAMES,
      'threadRestarts',
      'forwardedUnreadable',
    ]);
    expect(backend.gateways()).toEqual([]);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    try {
      client.send(
        encodePullData({ token: 7, gatewayEui: 'AA555A0000000001' }),
        backend.address().port,
        '127.0.0.1',
      );
      await eventually(() => backend.counters().pullAcksSent === 1);
      expect(backend.counters()).toMatchObject({
        datagramsReceived: 1,
        datagramsPullData: 1,
        gatewaysKnown: 1,
      });
      expect(backend.gateways()).toEqual([
        expect.objectContaining({
          gatewayEui: 'aa555a0000000001',
          address: '127.0.0.1',
          port: client.address().port,
        }),
      ]);
    } finally {
      client.close();
    }
  });

  it('answers UNSUPPORTED for a downlink while stopped, and stops twice without harm', async () => {
    const backend = new SemtechUdpThreadBackend({ host: '127.0.0.1', port: 0 });
    const tx = {
      gatewayEui: 'AA555A0000000001',
      tmst: 1,
      frequencyHz: 868_100_000,
      powerDbm: 14,
      dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
      codingRate: '4/5',
      invertPolarity: true,
      phyPayload: new Uint8Array([0x60]),
      id: 3,
    } as const;
    expect(await backend.schedule(tx)).toEqual({
      gatewayEui: 'aa555a0000000001',
      status: 'UNSUPPORTED',
      id: 3,
    });
    await backend.start();
    await backend.stop();
    await backend.stop();
    expect(backend.state).toBe('stopped');
    expect(await backend.schedule(tx)).toMatchObject({ status: 'UNSUPPORTED' });
  });
});
