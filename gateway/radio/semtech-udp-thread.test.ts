import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { type LogLine, recordingLogger } from '../../proto/log.test-helpers.js';
import type { RadioStateChange } from '../../proto/radio.js';
import { encodePushData } from '../../proto/semtech-udp/index.js';
import { eventually } from '../../test/helpers/wait.js';
import { SemtechUdpThreadBackend } from './semtech-udp-thread.js';

const running: SemtechUdpThreadBackend[] = [];

/** Bytes waiting in the kernel's receive queue of the UDP socket bound to `port` (/proc/net/udp, Linux). */
function kernelQueueBytes(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(hexPort)) return Number.parseInt(fields[4]?.split(':')[1] ?? '0', 16);
  }
  return 0;
}
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

  it('stops reading while its waiting uplinks fill their memory, and loses none: the kernel holds the rest', async () => {
    // About 3 waiting uplinks fit; 150 datagrams are sent while the event loop holds uplinks back.
    const backend = new SemtechUdpThreadBackend({ host: '127.0.0.1', port: 0, maxWaitingBytes: 4_500 });
    running.push(backend);
    const fCnts: number[] = [];
    backend.on('uplink', (u) => fCnts.push(u.phyPayload[6] as number));
    await backend.start();
    backend.holdUplinks(true);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const rx = {
      tmst: 1,
      frequencyHz: 868_100_000,
      channel: 0,
      rfChain: 0,
      rssi: -50,
      snr: 7,
      crcStatus: 'ok' as const,
    };
    const rxMeta = {
      ...rx,
      dataRate: { modulation: 'LORA' as const, spreadingFactor: 7, bandwidthKHz: 125 },
      codingRate: '4/5',
    };
    const sent = 150;
    for (let i = 0; i < sent; i++) {
      // An unconfirmed data uplink whose FCnt (byte 6) numbers it.
      const phyPayload = new Uint8Array([0x40, 1, 2, 3, 4, 0, i, 0, 1, 0xaa, 0, 0, 0, 0]);
      const datagram = encodePushData({
        token: i,
        gatewayEui: 'aa555a0000000001',
        rxpk: [{ phyPayload, rx: rxMeta }],
      });
      await new Promise<void>((r) => client.send(datagram, backend.address().port, '127.0.0.1', () => r()));
    }
    // The thread stopped reading (it cannot even send its counters now): the rest waits in the kernel.
    await eventually(
      () => kernelQueueBytes(backend.address().port) > 0,
      20_000,
      'datagrams left in the kernel',
    );
    expect(fCnts.length).toBeLessThan(sent);
    backend.holdUplinks(false);
    await eventually(() => fCnts.length === sent, 20_000, 'every uplink after the hold');
    client.close();
    expect(fCnts).toEqual(Array.from({ length: sent }, (_, i) => i));
    await eventually(() => backend.counters().datagramsReceived === sent, 20_000, 'the counters');
    expect(backend.counters().readPauses).toBeGreaterThanOrEqual(1);
  });
});
