/**
 * Bundle format 3 (proto/proof/PROOF.md §3): a signed statement with a Merkle root over salted
 * record leaves; the telemetry detached under unprotected label -65537, bound by digest.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plotReferences, simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { ErrorCode, isMaverickError } from '../errors.js';
import { bundleLeafHashes } from '../proof/leaf.js';
import { MerkleTree } from '../proof/merkle.js';
import { bundleDigest, sealBundle, signBundle, verifyBundle, verifyBundleStatement } from './bundle.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, encodeCbor, encodeTaggedCbor } from './cbor-encode.js';
import { type SigningKey, signSign1 } from './cose.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from './ed25519.js';
import { encodeBundlePayload, encodeBundleStatement } from './payload.js';
import { type BundleContent, GENESIS_PREV_HASH } from './types.js';

const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const key: SigningKey = { kid: keyIdOf(publicKey), secretKey };
const claims = { iss: 'gw-0016c001ff10a235', sub: 'farm:demo', iat: 1_763_700_000 };
const resolve = (kid: Uint8Array): Uint8Array | undefined =>
  Buffer.compare(kid, key.kid) === 0 ? publicKey : undefined;
const seed = new Uint8Array(32).fill(9);
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

const day = simulatedDay();
const content: BundleContent = {
  seq: 8,
  prevHash: GENESIS_PREV_HASH,
  // Format 3: exactly the first and last reception.
  timeRange: {
    start: Math.min(...day.map((u) => u.receivedAt)),
    end: Math.max(...day.map((u) => u.receivedAt)),
  },
  plots: plotReferences(true),
  uplinks: day,
  compress: true,
};

type Parts = [Uint8Array, CborMap, Uint8Array, Uint8Array];
const partsOf = (cose: Uint8Array) => decodeCbor(cose, { topLevelTag: 18 }) as unknown as Parts;
const withUnprotected = (cose: Uint8Array, unprotected: CborMap) => {
  const [p, , payload, sig] = partsOf(cose);
  return encodeTaggedCbor(18, [p, unprotected, payload, sig]);
};
const code = (c: number) => expect.objectContaining({ code: c });

describe('bundle format 3', () => {
  const sealed = sealBundle(content, key, claims, seed);

  it('signs a statement whose root is the MTH of the salted leaves, in telemetry order', () => {
    const { bundle, digest } = verifyBundle(sealed.cose, resolve);
    expect(bundle.version).toBe(3);
    expect(bundle.uplinks).toHaveLength(content.uplinks.length);
    const leafHashes = bundleLeafHashes(bundle.uplinks, seed);
    expect(bundle.commitment?.root).toEqual(MerkleTree.fromLeafHashes(leafHashes).root);
    expect(bundle.commitment?.leaves).toBe(content.uplinks.length);
    expect(bundle.commitment?.saltSeed).toEqual(seed);
    expect(digest).toEqual(sealed.digest);
    // The statement form: the same COSE with an empty unprotected map.
    const stripped = withUnprotected(sealed.cose, new Map());
    expect(sealed.digest).toEqual(sha256(stripped));
    expect(bundleDigest(stripped)).toEqual(sealed.digest);
    expect(bundleDigest(sealed.cose)).toEqual(sealed.digest);
    // The telemetry digest covers the plain canonical telemetry, seed included.
    const [, unprotected] = partsOf(sealed.cose);
    const plain = new Uint8Array(Buffer.from(inflateRawSync(unprotected.get(-65537) as Uint8Array)));
    expect(bundle.commitment?.telemetryDigest).toEqual(sha256(plain));
    expect((decodeCbor(plain) as CborMap).get(3)).toEqual(seed);
  });

  it('the statement form verifies alone, and shows no reading; the full check needs the telemetry', () => {
    const stripped = withUnprotected(sealed.cose, new Map());
    const v = verifyBundleStatement(stripped, resolve);
    expect(v.withTelemetry).toBe(false);
    expect(v.digest).toEqual(sealed.digest);
    expect(v.statement.commitment).toEqual(sealed.commitment);
    expect(v.statement.devices.reduce((n, d) => n + d.uplinks, 0)).toBe(content.uplinks.length);
    expect(verifyBundleStatement(sealed.cose, resolve).statement).toEqual(v.statement);
    expect(() => verifyBundle(stripped, resolve)).toThrow(/telemetry .* is missing/);
    // The stripped form is small: summaries and roots, no telemetry.
    expect(stripped.length).toBeLessThan(sealed.cose.length / 3);
  });

  it('one content, one digest: another deflate stream of the same telemetry is the same bundle', () => {
    const [, unprotected] = partsOf(sealed.cose);
    const plain = inflateRawSync(unprotected.get(-65537) as Uint8Array) as Buffer;
    const other = new Uint8Array(deflateRawSync(plain, { level: 1 }));
    expect(Buffer.compare(other, unprotected.get(-65537) as Uint8Array)).not.toBe(0);
    const recompressed = withUnprotected(sealed.cose, new Map([[-65537, other]]));
    const v = verifyBundle(recompressed, resolve);
    expect(v.digest).toEqual(sealed.digest);
    expect(bundleDigest(recompressed)).toEqual(sealed.digest);
    // The plain block in place of the deflate stream is refused: one carried form.
    const plainForm = withUnprotected(sealed.cose, new Map([[-65537, new Uint8Array(plain)]]));
    expect(() => verifyBundle(plainForm, resolve)).toThrow(code(ErrorCode.BundleMalformed));
  });

  it('refuses changed telemetry, an unknown unprotected label, a root that is not the records', () => {
    const other = simulatedDay({ seed: 7 });
    const otherRange = {
      start: Math.min(...other.map((u) => u.receivedAt)),
      end: Math.max(...other.map((u) => u.receivedAt)),
    };
    const otherDay = sealBundle({ ...content, uplinks: other, timeRange: otherRange }, key, claims, seed);
    const [, otherUnprotected] = partsOf(otherDay.cose);
    const swapped = withUnprotected(sealed.cose, otherUnprotected);
    expect(() => verifyBundle(swapped, resolve)).toThrow(/does not hash to the digest/);
    const extra = withUnprotected(sealed.cose, new Map([...partsOf(sealed.cose)[1], [7, new Uint8Array(1)]]));
    expect(() => verifyBundle(extra, resolve)).toThrow(/label 7 is not allowed/);
    // A gateway that signs a wrong root: the statement verifies, the bundle does not.
    const parts = encodeBundleStatement(content, seed);
    const statement = decodeCbor(parts.statement) as CborMap;
    statement.set(9, new Uint8Array(32).fill(1));
    const lying = signSign1(
      encodeCbor(statement),
      key,
      'application/vnd.maverick.bundle+cbor',
      claims,
      new Map([[-65537, parts.telemetry]]),
    );
    expect(() => verifyBundle(lying, resolve)).toThrow(/Merkle root does not match the records/);
    // A format 2 bundle with telemetry beside it: refused, nothing unsigned may ride along.
    const two = signBundle(encodeBundlePayload(content), key, claims);
    expect(() => verifyBundle(withUnprotected(two, new Map([[-65537, parts.telemetry]])), resolve)).toThrow(
      /unprotected header must be empty/,
    );
  });

  it('leaves nothing to taste: exact time range, exactly the named plots, at least one uplink', () => {
    const first = Math.min(...content.uplinks.map((u) => u.receivedAt));
    expect(() =>
      sealBundle({ ...content, timeRange: { ...content.timeRange, start: first - 1 } }, key, claims),
    ).toThrow(/first and last reception/);
    const northOnly = content.uplinks.filter((u) => u.plotId === 'plot-north');
    const range = {
      start: Math.min(...northOnly.map((u) => u.receivedAt)),
      end: Math.max(...northOnly.map((u) => u.receivedAt)),
    };
    expect(() => sealBundle({ ...content, uplinks: northOnly, timeRange: range }, key, claims)).toThrow(
      /exactly the plots its uplinks name/,
    );
    expect(() => sealBundle({ ...content, uplinks: [], plots: [] }, key, claims)).toThrow(
      /at least one uplink/,
    );
  });

  it('chains: prevHash of a format 3 bundle is the digest of its format 2 predecessor', () => {
    const two = signBundle(encodeBundlePayload({ ...content, seq: 7 }), key, claims);
    const three = sealBundle({ ...content, prevHash: bundleDigest(two) }, key, claims);
    expect(verifyBundle(three.cose, resolve).bundle.prevHash).toEqual(sha256(two));
  });

  it('never accepts a mutation that changes what is signed (property)', () => {
    const original = verifyBundle(sealed.cose, resolve);
    fc.assert(
      fc.property(fc.nat(sealed.cose.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Uint8Array.from(sealed.cose);
        bad[at] = (bad[at] as number) ^ xor;
        try {
          const v = verifyBundle(bad, resolve);
          // Only the deflate stream may differ (a different stream of the same content).
          expect(v.digest).toEqual(original.digest);
          expect(v.bundle.uplinks).toEqual(original.bundle.uplinks);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
