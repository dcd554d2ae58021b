/**
 * Fuzzing the untrusted-bytes entry points (110k inputs in all): random
 * bytes, random bytes behind a COSE_Sign1 prefix, mutated real bundles, and
 * mutated payloads fed straight to the payload decoder (the part that sits
 * behind the signature check). Only MaverickError may escape; the suite's
 * timeout is the hang detector.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../proto/bundle/bundle.js';
import { verifyCommitment } from '../proto/bundle/commitment.js';
import { decodeBundlePayload, encodeBundlePayload } from '../proto/bundle/payload.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { isMaverickError } from '../proto/errors.js';
import { makeChain, testGateway } from './fixtures/bundle-chain.js';
import { DAY_START_MS, plotReferences, simulatedDay } from './fixtures/bundle-simulated-day.js';

const gw = testGateway('gw-fuzz');
const resolve = (): Uint8Array => gw.publicKey;
const [sample] = makeChain(gw, 1);
const bundle = sample!.cose;
const payloads = [false, true].map((compress) =>
  encodeBundlePayload({
    seq: 1,
    prevHash: GENESIS_PREV_HASH,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + 7_200_000 },
    plots: plotReferences(true),
    uplinks: simulatedDay({ devices: 4 }).filter((u) => u.receivedAt <= DAY_START_MS + 7_200_000),
    compress,
  }),
);

function onlyMaverickErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isMaverickError(err)) throw err;
  }
}

/** A mutation: flip, overwrite, insert, delete, truncate or splice random bytes, 1-8 times. */
const mutation = (length: number) =>
  fc.array(
    fc.oneof(
      fc.record({
        op: fc.constant('set' as const),
        at: fc.nat({ max: length - 1 }),
        byte: fc.nat({ max: 255 }),
      }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat({ max: length }),
        byte: fc.nat({ max: 255 }),
      }),
      fc.record({
        op: fc.constant('delete' as const),
        at: fc.nat({ max: length - 1 }),
        byte: fc.constant(0),
      }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: length }), byte: fc.constant(0) }),
    ),
    { minLength: 1, maxLength: 8 },
  );

function mutate(
  input: Uint8Array,
  ops: { op: 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number }[],
): Uint8Array {
  let bytes = Array.from(input);
  for (const { op, at, byte } of ops) {
    const i = Math.min(at, bytes.length);
    if (op === 'set' && i < bytes.length) bytes[i] = byte;
    else if (op === 'insert') bytes.splice(i, 0, byte);
    else if (op === 'delete') bytes.splice(i, 1);
    else if (op === 'truncate') bytes = bytes.slice(0, i);
  }
  return Uint8Array.from(bytes);
}

describe('fuzz: verifyBundle and the payload decoder only ever throw MaverickError', () => {
  it('50k random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        onlyMaverickErrors(() => verifyBundle(bytes, resolve));
        onlyMaverickErrors(() => verifyCommitment(bytes, resolve));
      }),
      { numRuns: 50_000 },
    );
  }, 240_000);

  it('20k random bodies behind a COSE_Sign1 prefix (tag 18, array of 4)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        onlyMaverickErrors(() => verifyBundle(Uint8Array.of(0xd2, 0x84, ...body), resolve));
      }),
      { numRuns: 20_000 },
    );
  }, 240_000);

  it('20k mutated real bundles: never verify as anything else, never escape', () => {
    const original = verifyBundle(bundle, resolve);
    fc.assert(
      fc.property(mutation(bundle.length), (ops) => {
        const mutated = mutate(bundle, ops);
        if (Buffer.compare(mutated, bundle) === 0) return;
        onlyMaverickErrors(() => {
          // Format 3: the deflate stream is outside the signature (PROOF.md §3.2); a mutation there
          // that still inflates to the same telemetry is the same bundle. Nothing else verifies.
          const v = verifyBundle(mutated, resolve);
          expect(v.digest).toEqual(original.digest);
          expect(v.bundle.uplinks).toEqual(original.bundle.uplinks);
        });
      }),
      { numRuns: 20_000 },
    );
  }, 240_000);

  it('20k mutated payloads (plain and deflated) straight into the payload decoder', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (which, seeds) => {
        const payload = payloads[which] as Uint8Array;
        const ops = seeds.slice(0, 1 + ((seeds[0] as number) % 4)).map((s, k) => ({
          op: (['set', 'insert', 'delete', 'truncate'] as const)[k === 0 ? s % 3 : s % 4] as 'set',
          at: s % payload.length,
          byte: (s >>> 8) & 0xff,
        }));
        onlyMaverickErrors(() => decodeBundlePayload(mutate(payload, ops), { maxInflatedBytes: 1 << 20 }));
      }),
      { numRuns: 20_000 },
    );
  }, 240_000);
});
