/**
 * Verifies an evidence pack offline with public keys alone (EVIDENCE.md §5). Shared by
 * `maverick evidence verify` and the self-contained HTML page: no node: imports. Every check
 * is reported by name; the pack is valid only when all of them hold.
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { encodeCbor } from '../bundle/cbor-encode.js';
import { type PlotClaims, recordAgainstClaims } from './claims.js';
import { eudrProblems } from './eudr.js';
import { hex, kidOf, sameBytes, sha256, verifyEd25519 } from './hash.js';
import {
  CLAIMS_CONTENT_TYPE,
  type ClaimsPayload,
  decodeClaimsPayload,
  decodePack,
  type EvidencePack,
  type KeyRegistration,
} from './pack.js';
import {
  type CheckedStatement,
  checkStatement,
  type DisclosedRecord,
  EvidenceCheckError,
  type PeriodHeaderFields,
  proofHolds,
  readLeaf,
  readReceipt,
  receiptOf,
} from './proof-check.js';
import { sampleIndices } from './sampling.js';

const DAY_MS = 86_400_000;

export interface Check {
  /** Stable name of the check, e.g. `statement 1 key` or `spot check selection`. */
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifiedRecord {
  index: number;
  gatewayId: string;
  record: DisclosedRecord;
}

export interface PackVerification {
  ok: boolean;
  checks: Check[];
  claims?: PlotClaims;
  keys?: KeyRegistration[];
  statements: CheckedStatement[];
  records: VerifiedRecord[];
  regionalKid?: string;
  /** True when the regional key matched the one the caller pinned (undefined: nothing pinned). */
  regionalPinned?: boolean;
  packBytes: number;
}

export interface VerifyOptions {
  /** The regional node's public key as published out of band; without it the pack's own is reported, not trusted. */
  regionalKey?: Uint8Array;
}

class Checks {
  readonly list: Check[] = [];
  add(name: string, ok: boolean, detail: string): boolean {
    this.list.push({ name, ok, detail });
    return ok;
  }
  /** Runs `fn`; an EvidenceCheckError (or a CBOR error) becomes a failed check of that name. */
  run<T>(name: string, fn: () => T, detail: (value: T) => string): T | undefined {
    try {
      const value = fn();
      this.add(name, true, detail(value));
      return value;
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      this.add(name, false, err.message);
      return undefined;
    }
  }
}

function openClaims(signed: Uint8Array): {
  payload: ClaimsPayload;
  kid: Uint8Array;
  verify: (key: Uint8Array) => boolean;
} {
  const v = decodeCbor(signed, { topLevelTag: 18, maxDepth: 8 });
  if (!Array.isArray(v) || v.length !== 4) throw new EvidenceCheckError('signed claims are not a COSE_Sign1');
  const [protectedBytes, unprotected, payload, signature] = v;
  if (
    !(protectedBytes instanceof Uint8Array) ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  )
    throw new EvidenceCheckError('signed claims: header, payload and signature must be byte strings');
  if (!(unprotected instanceof Map) || unprotected.size !== 0)
    throw new EvidenceCheckError('signed claims: unprotected header must be empty');
  const header = decodeCbor(protectedBytes, { maxDepth: 3 });
  const kid = header instanceof Map ? header.get(4) : undefined;
  if (
    !(header instanceof Map) ||
    header.get(1) !== -8 ||
    header.get(3) !== CLAIMS_CONTENT_TYPE ||
    !(kid instanceof Uint8Array)
  )
    throw new EvidenceCheckError(`signed claims: header must be EdDSA, ${CLAIMS_CONTENT_TYPE}, with a kid`);
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
  return {
    payload: decodeClaimsPayload(payload),
    kid,
    verify: (key) => verifyEd25519(signature, toBeSigned, key),
  };
}

/** The gateway key a statement names, if registered and in use when it was signed. */
function statementKey(keys: KeyRegistration[], h: PeriodHeaderFields): Uint8Array {
  const key = keys.find((k) => k.role === 'gateway' && sameBytes(kidOf(k.publicKey), h.kid));
  if (!key) throw new EvidenceCheckError(`kid ${hex(h.kid)} is not a registered gateway key`);
  if (key.id !== h.iss)
    throw new EvidenceCheckError(
      `key ${hex(h.kid)} is registered to ${key.id}, the statement names ${h.iss}`,
    );
  if (key.removedAt !== null && h.iat * 1000 >= key.removedAt)
    throw new EvidenceCheckError(
      `key ${hex(h.kid)} was rotated out at ${new Date(key.removedAt).toISOString()}, before the statement was signed`,
    );
  return key.publicKey;
}

export function verifyPack(bytes: Uint8Array, options: VerifyOptions = {}): PackVerification {
  const checks = new Checks();
  const result: PackVerification = {
    ok: false,
    checks: checks.list,
    statements: [],
    records: [],
    packBytes: bytes.length,
  };
  const pack = checks.run(
    'pack format',
    () => decodePack(bytes),
    (p) => `version 1, ${p.statements.length} statements, ${bytes.length} bytes`,
  );
  if (!pack) return result;
  const opened = checks.run(
    'claims format',
    () => openClaims(pack.signedClaims),
    (o) => `plot ${o.payload.claims.plotId}`,
  );
  if (!opened) return result;
  const { claims, keys } = opened.payload;
  result.claims = claims;
  result.keys = keys;
  result.regionalKid = hex(opened.kid);
  const regional = keys.find((k) => k.role === 'regional' && sameBytes(kidOf(k.publicKey), opened.kid));
  checks.add(
    'claims signature',
    !!regional && opened.verify(regional.publicKey),
    regional
      ? `signed by regional node ${regional.id} (kid ${hex(opened.kid)})`
      : `kid ${hex(opened.kid)} is not a listed regional key`,
  );
  if (options.regionalKey) {
    result.regionalPinned = !!regional && sameBytes(regional.publicKey, options.regionalKey);
    checks.add(
      'regional key pinned',
      result.regionalPinned,
      result.regionalPinned
        ? 'the pack is signed by the key you gave'
        : 'the pack is signed by another regional key than the one you gave',
    );
  }
  checkStatements(pack, opened.payload, checks, result);
  checkSpotCheck(pack, claims, checks, result);
  checkGeojson(pack, opened.payload, checks);
  result.ok = checks.list.every((c) => c.ok);
  return result;
}

function checkStatements(
  pack: EvidencePack,
  payload: ClaimsPayload,
  checks: Checks,
  result: PackVerification,
): void {
  const { claims, keys } = payload;
  pack.statements.forEach((bytes, i) => {
    const s = checks.run(
      `statement ${i + 1} signature`,
      () => checkStatement(bytes, (h) => statementKey(keys, h)),
      (v) => `gateway ${v.iss}, days ${v.fromDay}..${v.toDay}, ${v.leaves} records, key ${hex(v.kid)}`,
    );
    if (!s) return;
    result.statements.push(s);
    const inside = s.fromDay * DAY_MS >= claims.from && (s.toDay + 1) * DAY_MS - 1 <= claims.to;
    checks.add(
      `statement ${i + 1} period`,
      inside,
      inside ? 'inside the claimed period' : `days ${s.fromDay}..${s.toDay} lie outside the claimed period`,
    );
  });
  if (result.statements.length === pack.statements.length) checkTiling(result.statements, claims, checks);
  const digests = pack.statements.map((b) => hex(sha256(b))).sort();
  const bound = claims.sources.map((s) => hex(s.statementDigest)).sort();
  const sameSet = digests.length === bound.length && digests.every((d, i) => d === bound[i]);
  checks.add(
    'claims binding',
    sameSet,
    sameSet
      ? `the claims cite exactly the ${digests.length} statements of the pack`
      : 'the claims cite other statements than the pack carries',
  );
  const committed = result.statements.reduce((n, s) => n + s.leaves, 0);
  checks.add(
    'committed leaves',
    committed === claims.committedLeaves && claims.observations <= committed,
    `${claims.committedLeaves} claimed, ${committed} signed by the gateways, ${claims.observations} of them the plot's`,
  );
}

/**
 * The statements must be in their one order (gateway, then first day) and, per gateway, tile the
 * claimed days exactly: the sample space is then fixed by the claims, so the node cannot try
 * orders or subsets of statements until a nonce draws the records it prefers (SAMPLING.md).
 */
function checkTiling(statements: CheckedStatement[], claims: PlotClaims, checks: Checks): void {
  const aligned = claims.from % DAY_MS === 0 && (claims.to + 1) % DAY_MS === 0;
  const problems = aligned
    ? tilingProblems(statements, claims.from / DAY_MS, (claims.to + 1) / DAY_MS - 1)
    : ['the claimed period is not whole UTC days'];
  checks.add(
    'statements tile the period',
    problems.length === 0,
    problems.length
      ? problems.join('; ')
      : 'in order, per gateway contiguous from the first to the last claimed day',
  );
}

/** Why statements (in pack order) do not tile the days [first, last] per gateway; empty when they do. */
export function tilingProblems(
  statements: readonly { iss: string; fromDay: number; toDay: number }[],
  first: number,
  last: number,
): string[] {
  const problems: string[] = [];
  statements.forEach((s, i) => {
    const before = statements[i - 1];
    if (before && (before.iss > s.iss || (before.iss === s.iss && before.fromDay >= s.fromDay)))
      problems.push(`statement ${i + 1} is out of order (gateway, then first day)`);
    const sameGateway = before?.iss === s.iss;
    if (!sameGateway && s.fromDay !== first)
      problems.push(`${s.iss}'s statements do not start on the claimed first day`);
    if (sameGateway && s.fromDay !== (before as { toDay: number }).toDay + 1)
      problems.push(`${s.iss}'s statements ${i} and ${i + 1} leave a gap or overlap`);
    if (statements[i + 1]?.iss !== s.iss && s.toDay !== last)
      problems.push(`${s.iss}'s statements do not end on the claimed last day`);
  });
  return problems;
}

function checkSpotCheck(
  pack: EvidencePack,
  claims: PlotClaims,
  checks: Checks,
  result: PackVerification,
): void {
  const spot = pack.spotCheck;
  if (!spot) return;
  const statements = result.statements;
  if (statements.length !== pack.statements.length) {
    checks.add('spot check', false, 'not checked: a statement did not verify');
    return;
  }
  const total = statements.reduce((n, s) => n + s.leaves, 0);
  const drawn = checks.run(
    'spot check selection',
    () => sampleIndices(spot.nonce, total, spot.k),
    (d) => `${d.length} of ${total} records drawn by nonce ${hex(spot.nonce)}`,
  );
  if (!drawn) return;
  if (drawn.length !== spot.leaves.length) {
    checks.add(
      'spot check answer',
      false,
      `the nonce selects ${drawn.length} records, the pack discloses ${spot.leaves.length}`,
    );
    return;
  }
  // Global index → (statement, index in it): statements concatenated in pack order.
  const starts = statements.map((_, i) => statements.slice(0, i).reduce((n, s) => n + s.leaves, 0));
  const place = drawn.map((g) => {
    let s = statements.length - 1;
    while ((starts[s] as number) > g) s--;
    return { statement: s, local: g - (starts[s] as number) };
  });
  const used = [...new Set(place.map((p) => p.statement))].sort((a, b) => a - b);
  if (used.length !== spot.receipts.length) {
    checks.add(
      'spot check receipts',
      false,
      `the draws fall in ${used.length} statements, the pack has ${spot.receipts.length} receipts`,
    );
    return;
  }
  used.forEach((s, r) => {
    const statement = statements[s] as CheckedStatement;
    const receipt = checks.run(
      `receipt ${r + 1}`,
      () => readReceipt(spot.receipts[r] as Uint8Array),
      (x) => `${x.proofs.length} inclusion proofs`,
    );
    if (!receipt) return;
    checks.add(
      `receipt ${r + 1} statement`,
      receiptOf(receipt, statement),
      `carries the signature of statement ${s + 1}`,
    );
    const mine = place.map((p, j) => ({ ...p, j })).filter((p) => p.statement === s);
    if (mine.length !== receipt.proofs.length) {
      checks.add(
        `receipt ${r + 1} proofs`,
        false,
        `${receipt.proofs.length} proofs for ${mine.length} drawn records`,
      );
      return;
    }
    mine.forEach((p, q) => {
      const proof = receipt.proofs[q] as (typeof receipt.proofs)[number];
      const leaf = spot.leaves[p.j] as Uint8Array;
      const name = `record ${p.j + 1}`;
      if (proof.leafIndex !== p.local) {
        checks.add(
          `${name} selection`,
          false,
          `the proof is for record ${proof.leafIndex}, the nonce drew ${p.local} of statement ${s + 1}`,
        );
        return;
      }
      if (
        !checks.add(
          `${name} proof`,
          proofHolds(leaf, proof, statement),
          `leaf ${p.local} of statement ${s + 1} under its signed root`,
        )
      )
        return;
      const record = checks.run(
        `${name} contents`,
        () => readLeaf(leaf),
        (x) => `plot ${x.plotId ?? 'none'}, ${x.readings.length} readings`,
      );
      if (!record) return;
      result.records.push({ index: drawn[p.j] as number, gatewayId: statement.iss, record });
      const day = Math.floor(record.time / DAY_MS);
      const inStatement = day >= statement.fromDay && day <= statement.toDay;
      const problem = inStatement
        ? recordAgainstClaims(record, claims)
        : `day ${day} is outside its statement's days`;
      checks.add(
        `${name} against claims`,
        problem === undefined,
        problem ??
          (record.plotId === claims.plotId
            ? 'within the claimed period, devices and ranges'
            : `record of plot ${record.plotId ?? 'none'}, not this claim's`),
      );
    });
  });
}

function checkGeojson(pack: EvidencePack, payload: ClaimsPayload, checks: Checks): void {
  const text = pack.geojson;
  if (text === null) {
    checks.add(
      'GeoJSON',
      payload.geojsonDigest === null,
      payload.geojsonDigest === null
        ? 'none in this pack'
        : 'the claims cite a GeoJSON the pack does not carry',
    );
    return;
  }
  const digest = payload.geojsonDigest;
  checks.add(
    'GeoJSON binding',
    !!digest && sameBytes(digest, sha256(new TextEncoder().encode(text))),
    'the claims sign the GeoJSON text',
  );
  const problems = eudrProblems(text);
  checks.add(
    'GeoJSON EUDR rules',
    problems.length === 0,
    problems.length ? problems.join('; ') : 'WGS 84, 6 decimals, point ≤ 4 ha / polygon, closed simple rings',
  );
}
