/**
 * Evidence packs end to end: built on the regional side from a farm's committed month, verified
 * by the offline core (the one the CLI and the HTML page run), and every tamper the issue names
 * rejected with its reason. Receipts are cross-checked with proto/proof's own verifier.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCbor } from '../proto/bundle/cbor-decode.js';
import { encodeCbor, encodeTaggedCbor } from '../proto/bundle/cbor-encode.js';
import { signSign1 } from '../proto/bundle/cose.js';
import { toHex } from '../proto/bundle/ed25519.js';
import type { PlotDefinition } from '../proto/bundle/types.js';
import { sha256 } from '../proto/evidence/hash.js';
import {
  CLAIMS_CONTENT_TYPE,
  type ClaimsPayload,
  decodeClaimsPayload,
  decodePack,
  type EvidencePack,
  encodeClaimsPayload,
  encodePack,
} from '../proto/evidence/pack.js';
import { reportMarkdown } from '../proto/evidence/report.js';
import { sampleIndices } from '../proto/evidence/sampling.js';
import { verifyPack } from '../proto/evidence/verify.js';
import { decodeLeaf, encodeLeaf } from '../proto/proof/leaf.js';
import { leafHash, MerkleTree } from '../proto/proof/merkle.js';
import { buildPeriod, signPeriodStatement } from '../proto/proof/period.js';
import { encodeReceipt, verifyReceipt } from '../proto/proof/receipt.js';
import { buildEvidencePack, type EvidenceRequest, type HeldPeriod } from '../regional/evidence.js';
import { geoJsonText, plotGeoJson } from '../regional/export-geojson.js';
import {
  FARM_FIRST_DAY,
  farmEvidenceRequest,
  farmPeriod,
  GATEWAY_ID,
  gatewayKey,
  PLOT_DEFINITIONS,
  regionalKey,
  testKey,
} from './fixtures/evidence-farm.js';

const nonce = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
const DAY_MS = 86_400_000;
let period: HeldPeriod & { fromDay: number; toDay: number };
let request: EvidenceRequest;
let pack: Uint8Array;

const geojson = geoJsonText(plotGeoJson('plot-north', PLOT_DEFINITIONS['plot-north'] as PlotDefinition));

beforeAll(() => {
  period = farmPeriod({ days: 30 });
  request = { ...farmEvidenceRequest(period, nonce, geojson), now: () => Date.UTC(2025, 1, 5) };
  pack = buildEvidencePack(request).bytes;
});

/** The pack with its claims payload changed and signed again by the regional key. */
function resign(p: EvidencePack, change: (c: ClaimsPayload) => void): EvidencePack {
  const sign1 = decodeCbor(p.signedClaims, { topLevelTag: 18 }) as unknown[];
  const payload = decodeClaimsPayload(sign1[2] as Uint8Array);
  change(payload);
  const signedClaims = signSign1(encodeClaimsPayload(payload), regionalKey, CLAIMS_CONTENT_TYPE, {
    iss: 'regional-eu-1',
    sub: 'plot:plot-north',
    iat: 1,
  });
  return { ...p, signedClaims };
}

const failed = (bytes: Uint8Array) =>
  verifyPack(bytes, { regionalKey: regionalKey.publicKey }).checks.filter((c) => !c.ok);

describe('an evidence pack built from a committed month', () => {
  it('verifies: every signature, root, proof and claim binding holds', () => {
    const v = verifyPack(pack, { regionalKey: regionalKey.publicKey });
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.records).toHaveLength(20);
    expect(v.claims?.observations).toBe(period.records.filter((r) => r.plotId === 'plot-north').length);
    expect(v.claims?.devices).toHaveLength(6);
    expect(v.claims?.positions.count).toBeGreaterThan(0);
    expect(v.claims?.positions.insidePlot).toBeLessThan(v.claims?.positions.count as number);
    expect(reportMarkdown(v)).toMatch(/Verdict: VALID/);
  });

  it('discloses exactly the records the nonce draws, with proofs proto/proof also accepts', () => {
    const p = decodePack(pack);
    const drawn = sampleIndices(nonce, period.leaves.length, 20);
    expect(p.spotCheck?.leaves.map((l) => toHex(l))).toEqual(
      drawn.map((i) => toHex(period.leaves[i] as Uint8Array)),
    );
    const resolve = (kid: Uint8Array) =>
      toHex(kid) === toHex(gatewayKey.kid) ? gatewayKey.publicKey : undefined;
    const v = verifyReceipt(
      p.spotCheck?.receipts[0] as Uint8Array,
      p.spotCheck?.leaves as Uint8Array[],
      resolve,
    );
    expect(v.proofs.map((x) => x.leafIndex)).toEqual(drawn);
    for (const leaf of p.spotCheck?.leaves ?? []) expect(decodeLeaf(leaf).record.plotId).toMatch(/^plot-/);
  });

  it('the regional node refuses to build over records that do not rebuild the signed root', () => {
    const short = { ...period, leaves: period.leaves.slice(1), records: period.records.slice(1) };
    expect(() => buildEvidencePack({ ...request, periods: [short] })).toThrow(
      /do not rebuild the signed period root/,
    );
  });

  it('the regional node refuses to build when the statements do not cover the requested days', () => {
    expect(() => buildEvidencePack({ ...request, toDay: request.toDay + 1 })).toThrow(
      /do not end on the claimed last day/,
    );
  });

  it('without the pinned key the verdict still holds but says the regional key was not pinned', () => {
    const v = verifyPack(pack);
    expect(v.ok).toBe(true);
    expect(reportMarkdown(v)).toMatch(/not given one to pin/);
    const other = verifyPack(pack, { regionalKey: testKey('another regional').publicKey });
    expect(other.ok).toBe(false);
    expect(other.checks.filter((c) => !c.ok)).toEqual([
      expect.objectContaining({ name: 'regional key pinned' }),
    ]);
  });
});

describe('tampered packs are rejected, each with its reason', () => {
  it('a changed claim value breaks the regional signature', () => {
    const p = decodePack(pack);
    const sign1 = decodeCbor(p.signedClaims, { topLevelTag: 18 }) as [
      Uint8Array,
      Map<number, never>,
      Uint8Array,
      Uint8Array,
    ];
    const payload = decodeClaimsPayload(sign1[2]);
    payload.claims.observations += 1;
    const forged = encodeTaggedCbor(18, [sign1[0], new Map(), encodeClaimsPayload(payload), sign1[3]]);
    expect(failed(encodePack({ ...p, signedClaims: forged }))).toEqual([
      expect.objectContaining({ name: 'claims signature' }),
    ]);
  });

  it('a changed disclosed record breaks its inclusion proof', () => {
    const p = decodePack(pack);
    const leaves = p.spotCheck?.leaves as Uint8Array[];
    const { salt, record } = decodeLeaf(leaves[3] as Uint8Array);
    record.readings = record.readings.map((r) => ({ ...r, value: r.value + 1 }));
    leaves[3] = encodeLeaf(record, salt);
    expect(failed(encodePack(p))).toEqual([expect.objectContaining({ name: 'record 4 proof' })]);
  });

  it('a disclosed record that contradicts the claimed ranges is named, even when its proof holds', () => {
    const p = decodePack(pack);
    const north = verifyPack(pack).records.findIndex((r) => r.record.plotId === 'plot-north');
    // The regional node claims a narrower range than the record it must disclose.
    const bad = resign(p, (c) => {
      const field = c.claims.fields.find((f) => f.field === 'soil_moisture' || f.field === 'gps.latitude');
      if (field) field.max = { value: field.min.value, scale: field.min.scale };
    });
    const failures = failed(encodePack(bad));
    expect(failures.some((f) => /against claims/.test(f.name) && /outside the claimed/.test(f.detail))).toBe(
      true,
    );
    expect(north).toBeGreaterThanOrEqual(0);
  });

  it('a proof for another leaf is refused: the index is not the drawn one', () => {
    const p = decodePack(pack);
    const drawn = sampleIndices(nonce, period.leaves.length, 20);
    const other = (drawn[0] as number) + 1;
    const tree = MerkleTree.fromLeafHashes(period.leaves.map(leafHash));
    const proofs = drawn.map((i, j) => tree.inclusionProof(j === 0 ? other : i));
    (p.spotCheck as NonNullable<EvidencePack['spotCheck']>).leaves[0] = period.leaves[other] as Uint8Array;
    (p.spotCheck as NonNullable<EvidencePack['spotCheck']>).receipts = [
      encodeReceipt(period.statement, proofs),
    ];
    expect(failed(encodePack(p))).toEqual([
      expect.objectContaining({
        name: 'record 1 selection',
        detail: expect.stringMatching(/the nonce drew/),
      }),
    ]);
  });

  it('a proof path of another leaf at the drawn index does not reach the signed root', () => {
    const p = decodePack(pack);
    const drawn = sampleIndices(nonce, period.leaves.length, 20);
    const tree = MerkleTree.fromLeafHashes(period.leaves.map(leafHash));
    const proofs = drawn.map((i) => tree.inclusionProof(i));
    proofs[0] = { ...proofs[0], path: tree.inclusionProof((drawn[0] as number) ^ 1).path } as never;
    (p.spotCheck as NonNullable<EvidencePack['spotCheck']>).receipts = [
      encodeReceipt(period.statement, proofs),
    ];
    expect(failed(encodePack(p))).toEqual([expect.objectContaining({ name: 'record 1 proof' })]);
  });

  it('a statement outside the claimed period is refused', () => {
    const p = resign(decodePack(pack), (c) => {
      c.claims.to -= 5 * DAY_MS;
    });
    const failures = failed(encodePack(p));
    expect(failures[0]).toEqual(
      expect.objectContaining({
        name: 'statement 1 period',
        detail: expect.stringMatching(/outside the claimed period/),
      }),
    );
    // The statement no longer tiles the claimed days, and records drawn from the days the claims no longer cover are named.
    expect(failures[1]).toEqual(expect.objectContaining({ name: 'statements tile the period' }));
    expect(failures.slice(2).every((f) => /against claims/.test(f.name))).toBe(true);
  });

  it('a statement signed by an unregistered key is refused', () => {
    const rogue = testKey('rogue gateway');
    const { statement } = buildPeriod(period.fromDay, period.toDay, [
      { day: period.fromDay, leafHashes: period.leaves.map(leafHash) },
    ]);
    const forged = signPeriodStatement(statement, rogue, { iss: GATEWAY_ID, sub: 'farm:demo', iat: 1 });
    const p = resign({ ...decodePack(pack), statements: [forged], spotCheck: null }, (c) => {
      c.claims.sources = [{ gatewayId: GATEWAY_ID, statementDigest: sha256(forged) }];
    });
    expect(failed(encodePack(p))).toEqual([
      expect.objectContaining({
        name: 'statement 1 signature',
        detail: expect.stringMatching(/not a registered gateway key/),
      }),
      expect.objectContaining({ name: 'committed leaves' }),
    ]);
  });

  it('a statement signed after its key was rotated out is refused', () => {
    const p = resign(decodePack(pack), (c) => {
      c.keys = c.keys.map((k) =>
        k.role === 'gateway' ? { ...k, removedAt: (period.fromDay + 3) * DAY_MS } : k,
      );
    });
    const failures = failed(encodePack(p));
    expect(failures[0]).toEqual(
      expect.objectContaining({
        name: 'statement 1 signature',
        detail: expect.stringMatching(/rotated out/),
      }),
    );
  });

  it('a sample that does not match the nonce is refused', () => {
    const p = decodePack(pack);
    (p.spotCheck as NonNullable<EvidencePack['spotCheck']>).nonce = new Uint8Array(16).fill(9);
    const failures = failed(encodePack(p));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => / selection$/.test(f.name) || /receipt|proof/.test(f.name))).toBe(true);
    expect(failures.some((f) => /the nonce drew/.test(f.detail))).toBe(true);
  });

  it('claims that cite another statement than the pack carries are refused', () => {
    const p = resign(decodePack(pack), (c) => {
      c.claims.sources = [{ gatewayId: GATEWAY_ID, statementDigest: new Uint8Array(32) }];
    });
    expect(failed(encodePack(p))).toEqual([expect.objectContaining({ name: 'claims binding' })]);
  });

  it('a changed GeoJSON breaks its binding; a self-intersecting polygon breaks the EUDR rules', () => {
    const p = decodePack(pack);
    const bowtie = (p.geojson as string).replace(
      /\[\s*-1\.232100,\s*6\.123456\s*\]/,
      '[-1.232100, 6.125900]',
    );
    expect(bowtie).not.toBe(p.geojson);
    const names = failed(encodePack({ ...p, geojson: bowtie })).map((f) => f.name);
    expect(names).toContain('GeoJSON binding');
    expect(
      failed(
        encodePack(
          resign({ ...p, geojson: bowtie }, (c) => {
            c.geojsonDigest = sha256(new TextEncoder().encode(bowtie));
          }),
        ),
      ),
    ).toEqual([expect.objectContaining({ name: 'GeoJSON EUDR rules' })]);
  });

  it('statements out of their order, or a subset of them, are refused: the node cannot grind the sample', () => {
    const halves = [farmPeriod({ days: 3 }), farmPeriod({ days: 3, firstDay: FARM_FIRST_DAY + 3 })];
    const two = buildEvidencePack({
      ...request,
      fromDay: FARM_FIRST_DAY,
      toDay: FARM_FIRST_DAY + 5,
      periods: halves,
    }).bytes;
    expect(failed(two)).toEqual([]);
    const p = decodePack(two);
    const swapped = encodePack({
      ...p,
      statements: [p.statements[1], p.statements[0]] as Uint8Array[],
      spotCheck: null,
    });
    expect(failed(swapped).map((f) => f.name)).toContain('statements tile the period');
    const subset = resign({ ...p, statements: [p.statements[0] as Uint8Array], spotCheck: null }, (c) => {
      c.claims.sources = c.claims.sources.slice(0, 1);
      c.claims.committedLeaves = halves[0]?.leaves.length as number;
      c.claims.observations = 1;
    });
    expect(failed(encodePack(subset))).toEqual([
      expect.objectContaining({
        name: 'statements tile the period',
        detail: expect.stringMatching(/do not end on the claimed last day/),
      }),
    ]);
  });

  it('bytes that are not a pack are refused without throwing', () => {
    expect(failed(encodeCbor([1, 2, 3]))).toEqual([expect.objectContaining({ name: 'pack format' })]);
    expect(failed(pack.subarray(0, pack.length - 1))).toEqual([
      expect.objectContaining({ name: 'pack format' }),
    ]);
  });
});

it('first day of the farm fixture is a UTC day number', () => {
  expect(FARM_FIRST_DAY * DAY_MS).toBe(Date.UTC(2025, 0, 1));
});
