/**
 * Fuzzing every parser of untrusted link bytes (≥ 100k inputs each): message
 * fragments, bitmap/DONE status messages, MQTT acks, and the Iridium SBD
 * response lines and +SBDRB frames; also the regional reassembler fed random
 * frames. Only MaverickError may escape; the suite timeout is the hang detector.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../proto/bundle/ed25519.js';
import { isMaverickError } from '../proto/errors.js';
import { decodeFragment, encodeFragment, splitItem } from '../proto/link/fragment.js';
import { parseCsq, parseSbdix, parseSbdrbFrame, parseSbdwbResult } from '../proto/link/sbd-at.js';
import { signAck, verifyAck } from '../proto/link/signed-ack.js';
import { decodeStatusRecords, encodeStatusRecords } from '../proto/link/status.js';
import { Reassembler } from '../regional/transport/reassembly.js';

const RUNS = 100_000;

function onlyMaverickErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isMaverickError(err)) throw err;
  }
}

/** Random bytes, and real encodings with a few bytes flipped or cut. */
function mutated(seed: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc
      .tuple(seed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([bytes, flips, cut]) => {
        const out = bytes.slice();
        for (const [at, value] of flips) if (out.length > 0) out[at % out.length] = value;
        return cut % 5 === 0 ? out.subarray(0, cut % (out.length + 1)) : out;
      }),
  );
}

const realFragment = fc
  .tuple(
    fc.constantFrom('bundle', 'commitment', 'alarm', 'diagnostic' as const),
    fc.uint8Array({ minLength: 1, maxLength: 700 }),
    fc.boolean(),
  )
  .map(([kind, item, flag]) => encodeFragment({ ...splitItem(kind, item, 340)[0]!, wantStatus: flag }));

const realStatus = fc
  .array(
    fc.oneof(
      fc.record({
        type: fc.constant('done' as const),
        itemId: fc.uint8Array({ minLength: 4, maxLength: 4 }),
        status: fc.constantFrom('accepted', 'duplicate', 'rejected' as const),
      }),
      fc.integer({ min: 1, max: 120 }).chain((count) =>
        fc.record({
          type: fc.constant('bitmap' as const),
          itemId: fc.uint8Array({ minLength: 4, maxLength: 4 }),
          count: fc.constant(count),
          bitmap: fc.uint8Array({ minLength: Math.ceil(count / 8), maxLength: Math.ceil(count / 8) }),
        }),
      ),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((records) => encodeStatusRecords(records));

describe('link parsers survive fuzzing', () => {
  it('fragment header', () => {
    fc.assert(
      fc.property(mutated(realFragment), (bytes) => onlyMaverickErrors(() => decodeFragment(bytes))),
      { numRuns: RUNS },
    );
  });

  it('bitmap / DONE status messages', () => {
    fc.assert(
      fc.property(mutated(realStatus), (bytes) => onlyMaverickErrors(() => decodeStatusRecords(bytes))),
      { numRuns: RUNS },
    );
  });

  it('MQTT ack payloads (signed acks)', () => {
    const secretKey = randomSecretKey();
    const publicKey = publicKeyOf(secretKey);
    const key = { kid: keyIdOf(publicKey), secretKey };
    const realAck = fc
      .record({
        digest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
        status: fc.constantFrom('accepted', 'duplicate' as const),
        seq: fc.nat(),
      })
      .map((a) => signAck(a, key, { issuer: 'regional', gatewayId: 'gw-1', iat: 1_700_000_000 }));
    fc.assert(
      fc.property(mutated(realAck), (bytes) => onlyMaverickErrors(() => verifyAck(bytes, publicKey, 'gw-1'))),
      // Many inputs reach an Ed25519 verification: fewer runs here; `npm run fuzz` runs a million.
      { numRuns: 2_000 },
    );
  });

  it('SBD response lines and +SBDRB frames', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .tuple(
          fc.constantFrom('+SBDIX: ', '+CSQ:', '+CSQF:', ''),
          fc.array(fc.oneof(fc.nat({ max: 70000 }), fc.integer()), { maxLength: 8 }),
        )
        .map(([p, n]) => `${p}${n.join(', ')}`),
    );
    fc.assert(
      fc.property(line, fc.uint8Array({ maxLength: 300 }), (text, bytes) => {
        onlyMaverickErrors(() => parseSbdix(text));
        onlyMaverickErrors(() => parseCsq(text));
        onlyMaverickErrors(() => parseSbdwbResult(text));
        onlyMaverickErrors(() => parseSbdrbFrame(bytes, 270));
      }),
      { numRuns: RUNS },
    );
  });

  it('the regional reassembler takes random frames without breaking its caps', () => {
    const reassembler = new Reassembler({ maxInFlight: 8, maxItemBytes: 4096 });
    fc.assert(
      fc.property(mutated(realFragment), (bytes) => {
        onlyMaverickErrors(() => reassembler.accept('fuzz', decodeFragment(bytes)));
        expect(reassembler.inFlight).toBeLessThanOrEqual(8);
      }),
      { numRuns: 20_000 },
    );
  });
});
