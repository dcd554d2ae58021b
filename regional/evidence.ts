/**
 * Builds an evidence pack (proto/evidence/EVIDENCE.md) on the regional node: checks that the
 * records it holds rebuild each gateway-signed period root exactly, computes and signs the
 * plot's claims bound to those statements, and answers a verifier's nonce with the drawn
 * records and their RFC 9942 receipts. The node cannot pick the records: the nonce does.
 */
import { type KeyResolver, type SigningKey, signSign1 } from '../proto/bundle/cose.js';
import { keyIdOf, toHex } from '../proto/bundle/ed25519.js';
import type { PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { sha256 } from '../proto/evidence/hash.js';
import {
  CLAIMS_CONTENT_TYPE,
  encodeClaimsPayload,
  encodePack,
  type KeyRegistration,
  type SpotCheck,
} from '../proto/evidence/pack.js';
import { sampleIndices } from '../proto/evidence/sampling.js';
import { tilingProblems } from '../proto/evidence/verify.js';
import { leafHash, MerkleTree } from '../proto/proof/merkle.js';
import { verifyPeriodStatement } from '../proto/proof/period.js';
import { encodeReceipt } from '../proto/proof/receipt.js';
import { computeClaims } from './claims.js';

const DAY_MS = 86_400_000;

/** One gateway-signed period and the records it commits to, as the regional node holds them. */
export interface HeldPeriod {
  /** The gateway's signed period statement (PROOF.md §5), exact bytes. */
  statement: Uint8Array;
  /** The period's leaves in period order (PROOF.md §5) and the record each one encodes. */
  leaves: Uint8Array[];
  records: UplinkRecord[];
}

export interface EvidenceRequest {
  plotId: string;
  /** UTC day numbers, inclusive. */
  fromDay: number;
  toDay: number;
  definition: PlotDefinition;
  periods: HeldPeriod[];
  /** Registered gateway keys and the node's own, with their history. */
  keys: KeyRegistration[];
  /** The regional node's key and name (regional/ack.ts loads the same key). */
  signer: { key: SigningKey; issuer: string };
  /** GeoJSON text of the plot (EUDR), or null to leave it out. */
  geojson: string | null;
  spotCheck?: { nonce: Uint8Array; k: number };
  now?: () => number;
}

export interface BuiltPack {
  bytes: Uint8Array;
  statements: number;
  committedLeaves: number;
  observations: number;
}

function refuse(message: string, hint?: string): never {
  throw new MaverickError(ErrorCode.RegionalChain, message, hint ? { hint } : {});
}

interface CheckedPeriod {
  held: HeldPeriod;
  gatewayId: string;
  fromDay: number;
  toDay: number;
  tree: MerkleTree;
}

/** Verifies each statement and that the held leaves rebuild its signed root and size. */
function checkPeriods(request: EvidenceRequest): CheckedPeriod[] {
  const resolve: KeyResolver = (kid) =>
    request.keys.find((k) => k.role === 'gateway' && toHex(keyIdOf(k.publicKey)) === toHex(kid))?.publicKey;
  const checked = request.periods.map((held): CheckedPeriod => {
    const v = verifyPeriodStatement(held.statement, resolve);
    const { fromDay, toDay, leaves, root } = v.statement;
    if (fromDay < request.fromDay || toDay > request.toDay)
      refuse(
        `statement of ${v.claims.iss} covers days ${fromDay}..${toDay}, outside the requested ${request.fromDay}..${request.toDay}`,
      );
    if (held.leaves.length !== held.records.length) refuse('each held leaf needs its record');
    const tree = MerkleTree.fromLeafHashes(held.leaves.map(leafHash));
    if (tree.size !== leaves || toHex(tree.root) !== toHex(root)) {
      refuse(
        `the records held for ${v.claims.iss} days ${fromDay}..${toDay} (${tree.size}) do not rebuild the signed period root (${leaves} records)`,
        'sync the missing bundles from the gateway before building evidence over this period',
      );
    }
    return { held, gatewayId: v.claims.iss, fromDay, toDay, tree };
  });
  // Pack order = sampling order: by gateway, then period start.
  checked.sort((a, b) =>
    a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : a.fromDay - b.fromDay,
  );
  const gaps = tilingProblems(
    checked.map((c) => ({ iss: c.gatewayId, fromDay: c.fromDay, toDay: c.toDay })),
    request.fromDay,
    request.toDay,
  );
  if (gaps.length > 0) {
    refuse(
      `the statements do not cover the requested days: ${gaps.join('; ')}`,
      'give every period statement of each gateway from --from to --to (`maverick bundle statement` signs any closed range)',
    );
  }
  return checked;
}

function answerSpotCheck(periods: CheckedPeriod[], nonce: Uint8Array, k: number): SpotCheck {
  const total = periods.reduce((n, p) => n + p.tree.size, 0);
  const starts = periods.map((_, i) => periods.slice(0, i).reduce((n, p) => n + p.tree.size, 0));
  const drawn = sampleIndices(nonce, total, k).map((g) => {
    let s = periods.length - 1;
    while ((starts[s] as number) > g) s--;
    return { s, local: g - (starts[s] as number) };
  });
  const receipts: Uint8Array[] = [];
  periods.forEach((p, s) => {
    const mine = drawn.filter((d) => d.s === s);
    if (mine.length > 0)
      receipts.push(
        encodeReceipt(
          p.held.statement,
          mine.map((d) => p.tree.inclusionProof(d.local)),
        ),
      );
  });
  return {
    nonce,
    k,
    leaves: drawn.map((d) => (periods[d.s] as CheckedPeriod).held.leaves[d.local] as Uint8Array),
    receipts,
  };
}

export function buildEvidencePack(request: EvidenceRequest): BuiltPack {
  const periods = checkPeriods(request);
  const from = request.fromDay * DAY_MS;
  const to = (request.toDay + 1) * DAY_MS - 1;
  const records = periods
    .flatMap((p) => p.held.records)
    .filter((r) => r.plotId === request.plotId && r.receivedAt >= from && r.receivedAt <= to);
  if (records.length === 0)
    throw new MaverickError(
      ErrorCode.RegionalStore,
      `no committed records of plot ${request.plotId} in the period`,
      {
        hint: 'check the plot id and the days; records count only once a gateway has signed their period',
      },
    );
  const committedLeaves = periods.reduce((n, p) => n + p.tree.size, 0);
  const claims = computeClaims({
    plotId: request.plotId,
    from,
    to,
    records,
    definition: request.definition,
    committedLeaves,
    sources: periods.map((p) => ({ gatewayId: p.gatewayId, statementDigest: sha256(p.held.statement) })),
  });
  const geojsonDigest = request.geojson === null ? null : sha256(new TextEncoder().encode(request.geojson));
  const payload = encodeClaimsPayload({ claims, keys: request.keys, geojsonDigest });
  const iat = Math.floor((request.now ?? Date.now)() / 1000);
  const signedClaims = signSign1(payload, request.signer.key, CLAIMS_CONTENT_TYPE, {
    iss: request.signer.issuer,
    sub: `plot:${request.plotId}`,
    iat,
  });
  const spot = request.spotCheck;
  const bytes = encodePack({
    signedClaims,
    statements: periods.map((p) => p.held.statement),
    spotCheck: spot ? answerSpotCheck(periods, spot.nonce, spot.k) : null,
    geojson: request.geojson,
  });
  return { bytes, statements: periods.length, committedLeaves, observations: records.length };
}
