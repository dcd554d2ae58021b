import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { decodeCbor } from '../bundle/cbor-decode.js';
import { encodeCbor } from '../bundle/cbor-encode.js';
import type { BundleClaims, KeyResolver, SigningKey } from '../bundle/cose.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../bundle/ed25519.js';
import { ErrorCode, isMaverickError } from '../errors.js';
import { bundleLeaves, leafSalt } from './leaf.js';
import { leafHash, type MerkleTree } from './merkle.js';
import { buildPeriod, dayListEntry, signPeriodStatement, verifyPeriodStatement } from './period.js';
import { decodeReceipt, encodeReceipt, verifyReceipt } from './receipt.js';

const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const key: SigningKey = { kid: keyIdOf(publicKey), secretKey };
const resolve: KeyResolver = (kid) => (Buffer.compare(kid, key.kid) === 0 ? publicKey : undefined);
const claims: BundleClaims = {
  iss: 'gw-0016c001ff10a235',
  sub: 'farm:demo-farm-with-a-long-scope-name',
  iat: 1_767_225_600,
};
const DAY = 20_412; // 2025-11-20

/** Three days of the simulated farm: leaves salted per day (one bundle a day). */
function days() {
  return [0, 1, 2].map((d) => {
    const seed = createHash('sha256').update(`seed ${d}`).digest();
    const leaves = bundleLeaves(simulatedDay({ seed: 40 + d }), new Uint8Array(seed));
    return { day: DAY + d, leaves, leafHashes: leaves.map(leafHash) };
  });
}

const code = (c: number) => expect.objectContaining({ code: c });

describe('period statements (PROOF.md §5)', () => {
  const three = days();
  const { statement, tree } = buildPeriod(DAY, DAY + 2, three);
  const cose = signPeriodStatement(statement, key, claims);

  it('signs the period root, its tree size, the range and the days root; verifies from the key alone', () => {
    const all = three.flatMap((d) => d.leafHashes);
    expect(statement.leaves).toBe(all.length);
    expect(statement.days).toBe(3);
    const v = verifyPeriodStatement(cose, resolve);
    expect(v.statement).toEqual(statement);
    expect(v.claims).toEqual(claims);
    // The days root is the MTH over dCBOR([day, day root, day leaves]), recomputed here by hand.
    const entries = three.map((d) => {
      const { statement: one } = buildPeriod(d.day, d.day, [d]);
      return dayListEntry(d.day, one.root, one.leaves);
    });
    expect(buildPeriod(0, 0, []).statement.root).toEqual(new Uint8Array(createHash('sha256').digest()));
    expect(Buffer.from(statement.daysRoot)).toEqual(
      Buffer.from(buildPeriod(0, 0, [{ day: 0, leafHashes: entries.map(leafHash) }]).statement.root),
    );
    expect(cose.length).toBeLessThanOrEqual(340);
  });

  it('refuses days outside the period, a day given twice, and a backwards range', () => {
    expect(() => buildPeriod(DAY, DAY + 1, three)).toThrow(/outside/);
    expect(() => buildPeriod(DAY, DAY + 2, [three[0], three[0]] as typeof three)).toThrow(/twice/);
    expect(() => buildPeriod(DAY + 2, DAY, [])).toThrow(/ordered/);
  });

  it('refuses an unregistered key and any changed signed byte', () => {
    expect(() => verifyPeriodStatement(cose, () => undefined)).toThrow(code(ErrorCode.BundleUnknownKey));
    const other = randomSecretKey();
    expect(() => verifyPeriodStatement(cose, () => publicKeyOf(other))).toThrow(
      code(ErrorCode.BundleBadSignature),
    );
    // A statement claiming a longer period, re-encoded with the original signature.
    const [prot, , root, sig] = decodeCbor(cose, { topLevelTag: 18 }) as [
      Uint8Array,
      unknown,
      Uint8Array,
      Uint8Array,
    ];
    const header = decodeCbor(prot) as Map<number, unknown>;
    const period = header.get(-65538) as unknown[];
    header.set(-65538, [period[0], (period[1] as number) + 30, ...period.slice(2)]);
    const forged = Buffer.concat([
      Buffer.from([0xd2]),
      encodeCbor([encodeCbor(header as never), new Map(), root, sig]),
    ]);
    expect(() => verifyPeriodStatement(forged, resolve)).toThrow(code(ErrorCode.BundleBadSignature));
  });

  it('never throws anything but a MaverickError on hostile statement bytes (property)', () => {
    fc.assert(
      fc.property(fc.nat(cose.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Uint8Array.from(cose);
        bad[at] = (bad[at] as number) ^ xor;
        expect(() => verifyPeriodStatement(bad, resolve)).toThrow();
        try {
          verifyPeriodStatement(bad, resolve);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          verifyPeriodStatement(bytes, resolve);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  describe('receipts (RFC 9942, RFC9162_SHA256)', () => {
    const allLeaves = three.flatMap((d) => d.leaves);
    const picks = [0, 5, 959, 960, 1500, allLeaves.length - 1];
    const receipt = encodeReceipt(
      cose,
      picks.map((i) => tree.inclusionProof(i)),
    );
    const disclosed = picks.map((i) => allLeaves[i] as Uint8Array);

    it('has the RFC 9942 shape: protected vds 1, unprotected 396 {-1: [bstr .cbor [size, index, path]]}, payload nil', () => {
      const [prot, unprot, payload, sig] = decodeCbor(receipt, { topLevelTag: 18 }) as unknown[];
      const header = decodeCbor(prot as Uint8Array) as Map<number, unknown>;
      expect(header.get(395)).toBe(1);
      expect(payload).toBeNull();
      expect(sig).toHaveLength(64);
      const proofs = (
        (unprot as Map<number, Map<number, unknown>>).get(396) as Map<number, Uint8Array[]>
      ).get(-1);
      expect(proofs).toHaveLength(picks.length);
      const [size, index, path] = decodeCbor((proofs as Uint8Array[])[1] as Uint8Array) as [
        number,
        number,
        Uint8Array[],
      ];
      expect([size, index]).toEqual([allLeaves.length, 5]);
      expect(path.every((h) => h.length === 32)).toBe(true);
    });

    it('verifies: every proof leads to the signed root of the signed size', () => {
      const v = verifyReceipt(receipt, disclosed, resolve);
      expect(v.statement).toEqual(statement);
      expect(v.proofs.map((p) => p.leafIndex)).toEqual(picks);
    });

    it('refuses a changed record, a proof for another leaf, a wrong tree size, an unregistered key', () => {
      // Changed record: one reading off by one in the disclosed leaf.
      const changed = decodeCbor(disclosed[0] as Uint8Array) as unknown[];
      const readings = changed[7] as [string, number, number][];
      (readings[0] as [string, number, number])[2] += 1;
      const tampered = [encodeCbor(changed as never), ...disclosed.slice(1)];
      expect(() => verifyReceipt(receipt, tampered, resolve)).toThrow(/another root/);
      const single = encodeReceipt(cose, [tree.inclusionProof(0)]);
      expect(() => verifyReceipt(single, [tampered[0] as Uint8Array], resolve)).toThrow(
        code(ErrorCode.BundleBadSignature),
      );
      // A proof for another leaf: leaf 5's bytes against leaf 0's proof.
      expect(() => verifyReceipt(single, [disclosed[1] as Uint8Array], resolve)).toThrow(
        code(ErrorCode.BundleBadSignature),
      );
      // Wrong tree size: a proof cut for a smaller tree than the statement signs.
      const smaller = buildPeriod(DAY, DAY + 1, three.slice(0, 2)).tree;
      expect(() => encodeReceipt(cose, [smaller.inclusionProof(0)])).toThrow(/tree size/);
      const forgedSize = rewriteProof(single, (p) => [(p[0] as number) - 1, p[1], p[2]]);
      expect(() => verifyReceipt(forgedSize, [disclosed[0] as Uint8Array], resolve)).toThrow(/tree of/);
      // Another index for the same path.
      const forgedIndex = rewriteProof(single, (p) => [p[0], 1, p[2]]);
      expect(() => verifyReceipt(forgedIndex, [disclosed[0] as Uint8Array], resolve)).toThrow(
        code(ErrorCode.BundleBadSignature),
      );
      expect(() => verifyReceipt(receipt, disclosed, () => undefined)).toThrow(
        code(ErrorCode.BundleUnknownKey),
      );
      expect(() => verifyReceipt(receipt, disclosed.slice(1), resolve)).toThrow(/6 proofs for 5/);
    });

    it('never throws anything but a MaverickError on hostile receipt bytes (property)', () => {
      fc.assert(
        fc.property(fc.nat(receipt.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
          const bad = Uint8Array.from(receipt);
          bad[at] = (bad[at] as number) ^ xor;
          try {
            verifyReceipt(bad, disclosed, resolve);
            // A flipped byte that still verifies can only be outside what is signed or proven:
            // there is no such byte in a receipt.
            expect.unreachable(`byte ${at} ^ ${xor} still verifies`);
          } catch (err) {
            expect(isMaverickError(err)).toBe(true);
          }
        }),
        { numRuns: 1500 },
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          try {
            decodeReceipt(bytes);
          } catch (err) {
            expect(isMaverickError(err)).toBe(true);
          }
        }),
        { numRuns: 1500 },
      );
    });
  });
});

function rewriteProof(receipt: Uint8Array, change: (p: unknown[]) => unknown[]): Uint8Array {
  const [prot, unprot, , sig] = decodeCbor(receipt, { topLevelTag: 18 }) as [
    Uint8Array,
    Map<number, Map<number, Uint8Array[]>>,
    null,
    Uint8Array,
  ];
  const proofs = (unprot.get(396) as Map<number, Uint8Array[]>).get(-1) as Uint8Array[];
  const changed = proofs.map((p) => encodeCbor(change(decodeCbor(p) as unknown[]) as never));
  return Buffer.concat([
    Buffer.from([0xd2]),
    encodeCbor([prot, new Map([[396, new Map([[-1, changed]])]]), null, sig]),
  ]);
}

describe('sizes for a farm-year (10 devices × every 15 min × 365 days)', () => {
  let tree: MerkleTree;
  let cose: Uint8Array;
  const seed = new Uint8Array(32).fill(1);
  const dayRecords = simulatedDay();
  const dayLeaves = bundleLeaves(dayRecords, seed);
  beforeAll(() => {
    // Distinct leaves per day (the salt differs per bundle); hashing them is what a year costs.
    const year = Array.from({ length: 365 }, (_, d) => ({
      day: DAY + d,
      leafHashes: Array.from(
        { length: 960 },
        (_, i) => new Uint8Array(createHash('sha256').update(`${d}/${i}`).digest()),
      ),
    }));
    const built = buildPeriod(DAY, DAY + 364, year);
    tree = built.tree;
    cose = signPeriodStatement(built.statement, key, claims);
  }, 120_000);

  it('a year is 350 400 leaves (tree depth 19); one receipt for 20 sampled records fits the 16 KB pack budget', () => {
    expect(tree.size).toBe(350_400);
    const one = encodeReceipt(cose, [tree.inclusionProof(123_456)]);
    const twenty = encodeReceipt(
      cose,
      Array.from({ length: 20 }, (_, k) => tree.inclusionProof(k * 17_519)),
    );
    // Depth 19: a proof is 19 × 32 bytes of path plus a few bytes of CBOR.
    expect(tree.inclusionProof(123_456).path).toHaveLength(19);
    console.log(
      JSON.stringify({
        statementBytes: cose.length,
        receiptOneProofBytes: one.length,
        receiptTwentyProofsBytes: twenty.length,
        leafBytes: dayLeaves[0]?.length,
        saltBytes: leafSalt(seed, 0).length,
      }),
    );
    expect(one.length).toBeLessThan(1000);
    expect(twenty.length).toBeLessThan(14_000);
  });
});
