import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { bundleDigest } from './bundle.js';
import {
  COMMITMENT_MAX_BYTES,
  commitmentDigest,
  type DailyCommitment,
  signCommitment,
  verifyCommitment,
} from './commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from './ed25519.js';

const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const key = { kid: keyIdOf(publicKey), secretKey };

const digests = Array.from({ length: 24 }, (_, i) => bundleDigest(Uint8Array.of(i)));
const commitment: DailyCommitment = {
  day: 20_412,
  seqFirst: 4_000_000,
  seqLast: 4_000_023,
  digest: commitmentDigest(digests),
  bundles: 24,
  uplinks: 960,
  timeRange: { start: 1_763_596_800_000, end: 1_763_683_199_999 },
  timeSources: { gps: 900, ntp: 40, 'host-unsynced': 20 },
};
// Realistically long claims: a full gateway EUI id and a farm scope with a plot list.
const claims = {
  iss: 'gw-0016c001ff10a235',
  sub: 'farm:fazenda-boa-vista/plots:north,south',
  iat: 1_763_683_260,
};

describe('daily commitment', () => {
  it(`fits one ${COMMITMENT_MAX_BYTES}-byte satellite message, signed, and verifies`, () => {
    const cose = signCommitment(commitment, key, claims);
    expect(cose.length).toBeLessThanOrEqual(COMMITMENT_MAX_BYTES);
    const { commitment: back, envelope } = verifyCommitment(cose, () => publicKey);
    expect(back).toEqual(commitment);
    expect(envelope.contentType).toBe('application/vnd.maverick.commitment+cbor');
  });

  it('version 2 adds the day root (over all its uplinks) and still fits one message; version 1 still verifies', () => {
    const v2: DailyCommitment = {
      ...commitment,
      leaves: commitment.uplinks,
      dayRoot: new Uint8Array(32).fill(0xab),
    };
    const cose = signCommitment(v2, key, claims);
    expect(cose.length).toBeLessThanOrEqual(COMMITMENT_MAX_BYTES);
    const { commitment: back } = verifyCommitment(cose, () => publicKey);
    expect(back).toEqual(v2);
    expect(
      verifyCommitment(signCommitment(commitment, key, claims), () => publicKey).commitment.dayRoot,
    ).toBeUndefined();
    // Whatever byte is flipped, the result is a MaverickError, never a crash or a different commitment.
    fc.assert(
      fc.property(fc.nat(cose.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = cose.slice();
        bad[at] = (bad[at] as number) ^ xor;
        try {
          verifyCommitment(bad, () => publicKey);
          expect.unreachable(`byte ${at} ^ ${xor} still verifies`);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('commits to the bundle digests in order', () => {
    expect(Buffer.compare(commitmentDigest(digests), commitmentDigest([...digests].reverse()))).not.toBe(0);
  });

  it('refuses claims too long for the message rather than emitting an oversize one', () => {
    let err: unknown;
    try {
      signCommitment(commitment, key, { ...claims, sub: 'x'.repeat(200) });
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err, ErrorCode.BundleMalformed)).toBe(true);
  });

  it('a tampered commitment fails verification', () => {
    const cose = signCommitment(commitment, key, claims);
    const bad = cose.slice();
    bad[bad.length - 70] = (bad[bad.length - 70] as number) ^ 1;
    expect(() => verifyCommitment(bad, () => publicKey)).toThrow();
  });
});
