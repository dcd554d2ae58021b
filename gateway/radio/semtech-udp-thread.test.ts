import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { type LogLine, recordingLogger } from '../../proto/log.test-helpers.js';
import type { RadioStateChange } from '../../proto/radio.js';
import { eventually } from '../../test/helpers/wait.js';
import { SemtechUdpThreadBackend } from './semtech-udp-thread.js';

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
