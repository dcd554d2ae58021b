/**
 * The offline verifier on untrusted bytes (property tests): it never throws, whatever it is
 * given, and a pack with any one byte changed is never valid (every byte is covered by a
 * signature, a proof, a binding or the canonical form). Its reading of PROOF.md agrees with
 * proto/proof's on every statement and receipt.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayKey, regionalKey, smallFarmPack } from '../../test/fixtures/evidence-farm.js';
import { toHex } from '../bundle/ed25519.js';
import { isMaverickError } from '../errors.js';
import { verifyPeriodStatement } from '../proof/period.js';
import { decodeReceipt } from '../proof/receipt.js';
import { decodeClaimsPayload, decodePack, decodePack as readPack } from './pack.js';
import {
  checkStatement,
  EvidenceCheckError,
  readLeaf,
  readPeriodHeader,
  readReceipt,
} from './proof-check.js';
import { verifyPack } from './verify.js';

let pack: Uint8Array;

beforeAll(() => {
  pack = smallFarmPack(new Uint8Array(16).fill(4));
});

describe('verifyPack on untrusted bytes', () => {
  it('accepts the pack it is given unchanged', () => {
    expect(verifyPack(pack, { regionalKey: regionalKey.publicKey }).ok).toBe(true);
  });

  it('never throws on arbitrary bytes, and never calls them valid', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const v = verifyPack(bytes);
        expect(v.ok).toBe(false);
        expect(v.checks.some((c) => !c.ok)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a pack with any one byte changed is never valid, and the verifier does not throw', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bytes = pack.slice();
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ xor;
        expect(verifyPack(bytes, { regionalKey: regionalKey.publicKey }).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('a truncated or extended pack is refused by its format check', () => {
    for (const bytes of [pack.subarray(0, pack.length >> 1), Uint8Array.of(...pack, 0)]) {
      expect(verifyPack(bytes).checks).toEqual([expect.objectContaining({ name: 'pack format', ok: false })]);
    }
  });
});

describe('each parser of untrusted bytes', () => {
  const parsers = { readLeaf, readReceipt, readPeriodHeader, decodeClaimsPayload, readPack };
  it.each(Object.entries(parsers))(
    '%s refuses garbage with an Evidence or CBOR error, nothing else',
    (_, parse) => {
      const parts = decodePack(pack);
      const seeds = [
        parts.signedClaims,
        parts.statements[0] as Uint8Array,
        ...(parts.spotCheck?.leaves.slice(0, 2) ?? []),
      ];
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.constantFrom(...seeds).chain((seed) =>
              fc.tuple(fc.constant(seed), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, at, x]) => {
                const copy = b.slice();
                copy[at % copy.length] = (copy[at % copy.length] as number) ^ x;
                return copy;
              }),
            ),
          ),
          (bytes) => {
            try {
              parse(bytes);
            } catch (err) {
              expect(err instanceof EvidenceCheckError || isMaverickError(err)).toBe(true);
            }
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});

describe('the browser-safe reading of PROOF.md agrees with proto/proof', () => {
  it('on the statement and receipts of a pack', () => {
    const p = decodePack(pack);
    const statement = p.statements[0] as Uint8Array;
    const ours = checkStatement(statement, () => gatewayKey.publicKey);
    const theirs = verifyPeriodStatement(statement, () => gatewayKey.publicKey);
    expect(toHex(ours.root)).toBe(toHex(theirs.statement.root));
    expect([ours.fromDay, ours.toDay, ours.leaves, ours.days]).toEqual([
      theirs.statement.fromDay,
      theirs.statement.toDay,
      theirs.statement.leaves,
      theirs.statement.days,
    ]);
    const receipt = p.spotCheck?.receipts[0] as Uint8Array;
    expect(readReceipt(receipt).proofs).toEqual(decodeReceipt(receipt).proofs);
  });

  it('refuses a statement whose signature does not hold, as proto/proof does', () => {
    const statement = (decodePack(pack).statements[0] as Uint8Array).slice();
    statement[statement.length - 1] = (statement[statement.length - 1] as number) ^ 1;
    expect(() => checkStatement(statement, () => gatewayKey.publicKey)).toThrow(/does not verify/);
    expect(() => verifyPeriodStatement(statement, () => gatewayKey.publicKey)).toThrow(/does not verify/);
  });
});
