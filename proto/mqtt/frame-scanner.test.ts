import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttFrameScanner } from './frame-scanner.js';

/** Packets encoded by mqtt-packet (the parser aedes uses): an independent oracle for the lengths. */
const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    cmd: fc.constant('publish' as const),
    topic: fc.string({ minLength: 1, maxLength: 40 }),
    payload: fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a)),
    qos: fc.constant(0 as const),
    retain: fc.boolean(),
    dup: fc.constant(false),
  }),
  fc.constant({ cmd: 'pingreq' as const }),
  fc.record({
    cmd: fc.constant('connect' as const),
    clientId: fc.string({ maxLength: 23 }),
    protocolVersion: fc.constant(4 as const),
    protocolId: fc.constant('MQTT' as const),
    clean: fc.constant(true),
    keepalive: fc.nat(65535),
    password: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    username: fc.string({ maxLength: 30 }),
  }),
);

/** The body's real size: the whole packet minus the type byte and the length bytes (those with the high bit set, plus one). */
function bodyLength(encoded: Buffer): number {
  for (let i = 1; i <= 4; i++) {
    if (!(encoded[i]! & 0x80)) return encoded.length - 1 - i;
  }
  throw new Error('unreachable');
}

describe('MqttFrameScanner', () => {
  it('reads every declared length of a stream cut anywhere, as mqtt-packet encoded it', () => {
    fc.assert(
      fc.property(
        fc.array(packetArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (packets, cuts) => {
          const encoded = packets.map((p) => generate(p));
          const stream = Buffer.concat(encoded);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const scanner = new MqttFrameScanner(1 << 20, true);
          let from = 0;
          for (const to of [...points, stream.length]) {
            expect(scanner.feed(stream.subarray(from, to))).toEqual({ kind: 'ok' });
            from = to;
          }
          expect(scanner.declaredLengths).toEqual(encoded.map(bodyLength));
        },
      ),
    );
  });

  it('refuses a declared length over the limit before any of the body arrives', () => {
    const scanner = new MqttFrameScanner(16 * 1024);
    // CONNECT declaring 268,435,455 bytes (the MQTT maximum, "256 MB").
    expect(scanner.feed(Buffer.from([0x10, 0xff, 0xff]))).toEqual({ kind: 'ok' });
    expect(scanner.feed(Buffer.from([0xff, 0x7f]))).toEqual({
      kind: 'oversize',
      declaredBytes: 268_435_455,
      limitBytes: 16 * 1024,
    });
    // The verdict sticks: nothing after it is read.
    expect(scanner.feed(Buffer.alloc(10)).kind).toBe('oversize');
  });

  it('applies a raised limit to the packets after it', () => {
    const scanner = new MqttFrameScanner(10);
    const big = generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(100),
      qos: 0,
      retain: false,
      dup: false,
    });
    scanner.setLimit(200);
    expect(scanner.feed(big)).toEqual({ kind: 'ok' });
    scanner.setLimit(10);
    expect(scanner.feed(big).kind).toBe('oversize');
  });

  it('calls a fifth length byte malformed', () => {
    const scanner = new MqttFrameScanner(Number.MAX_SAFE_INTEGER);
    expect(scanner.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toEqual({
      kind: 'malformed',
      reason: 'remaining length longer than 4 bytes',
    });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(1 << 16), (bytes, limit) => {
        const verdict = new MqttFrameScanner(limit).feed(bytes);
        expect(['ok', 'oversize', 'malformed']).toContain(verdict.kind);
      }),
    );
  });
});
