/**
 * Daily commitments at the regional node: a gateway's signed promise, small
 * enough for one satellite message, of which bundles it sealed on a day.
 * `ingestCommitment` verifies and stores one (registered keys only, as for
 * bundles); `checkCommitment` compares it with the bundles actually held:
 * complete, still incomplete (which sequence numbers to fetch), or
 * contradicted — the held bundles do not hash to what the gateway committed
 * to, which is raised as an equivocation alert.
 */
import { commitmentDigest, verifyCommitment } from '../proto/bundle/commitment.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { ErrorCode, type ErrorCodeName, isMaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../proto/proof/merkle.js';
import type { GatewayRegistry } from './registry.js';
import type { RegionalAlert, RegionalStore, StoredCommitment } from './store.js';

export type CommitmentIngestResult =
  | { status: 'accepted' | 'duplicate'; gatewayId: string; day: number }
  | { status: 'rejected'; reason: ErrorCodeName | 'Unknown'; message: string };

export interface CommitmentDeps {
  registry: GatewayRegistry;
  store: RegionalStore;
  now?: () => number;
  logger?: Logger;
}

export async function ingestCommitment(
  deps: CommitmentDeps,
  bytes: Uint8Array,
  { source }: { source: string },
): Promise<CommitmentIngestResult> {
  const log = deps.logger ?? silentLogger;
  try {
    await deps.registry.fresh();
    const { envelope, commitment } = verifyCommitment(bytes, (kid) => deps.registry.resolve(kid)?.publicKey);
    const gatewayId = envelope.claims.iss;
    if (deps.registry.resolve(envelope.kid)?.gatewayId !== gatewayId) {
      return {
        status: 'rejected',
        reason: 'BundleUnknownKey',
        message: `key ${toHex(envelope.kid)} is not registered to ${gatewayId}`,
      };
    }
    const held = await deps.store.getCommitment(gatewayId, commitment.day);
    if (held && held.digest === toHex(commitment.digest))
      return { status: 'duplicate', gatewayId, day: commitment.day };
    await deps.store.putCommitment({
      gatewayId,
      day: commitment.day,
      seqFirst: commitment.seqFirst,
      seqLast: commitment.seqLast,
      digest: toHex(commitment.digest),
      bundles: commitment.bundles,
      uplinks: commitment.uplinks,
      cose: bytes.slice(),
      receivedAt: (deps.now ?? Date.now)(),
      source,
    });
    return { status: 'accepted', gatewayId, day: commitment.day };
  } catch (err) {
    if (!isMaverickError(err)) throw err;
    log.warn({ source, reason: err.codeName, err: err.message }, 'commitment rejected');
    return { status: 'rejected', reason: err.codeName, message: err.message };
  }
}

export type CommitmentCheck =
  | { status: 'complete'; commitment: StoredCommitment }
  | { status: 'incomplete'; commitment: StoredCommitment; missing: number[] }
  | { status: 'contradicted'; commitment: StoredCommitment; alert: RegionalAlert }
  | { status: 'none' };

/** Compares a stored commitment with the bundles held for its sequence range. */
export async function checkCommitment(
  deps: CommitmentDeps,
  gatewayId: string,
  day: number,
): Promise<CommitmentCheck> {
  const commitment = await deps.store.getCommitment(gatewayId, day);
  if (!commitment) return { status: 'none' };
  const digests: Uint8Array[] = [];
  const coses: Uint8Array[] = [];
  const missing: number[] = [];
  // Bounded by the committed range, which the gateway signed; cap it anyway against a hostile key holder.
  const span = Math.min(commitment.seqLast - commitment.seqFirst + 1, 100_000);
  const forked: number[] = [];
  for (let seq = commitment.seqFirst; seq < commitment.seqFirst + span; seq++) {
    const held = await deps.store.bundlesAtSeq(gatewayId, seq);
    if (held.length > 1) forked.push(seq);
    const [bundle] = held;
    if (bundle) {
      digests.push(new Uint8Array(Buffer.from(bundle.digest, 'hex')));
      coses.push(bundle.cose);
    } else missing.push(seq);
  }
  if (missing.length > 0) return { status: 'incomplete', commitment, missing };
  // With two bundles at one sequence there is no single held history to compare: the equivocation alert stands.
  if (forked.length > 0)
    return {
      status: 'contradicted',
      commitment,
      alert: await contradiction(deps, commitment, digests, forked),
    };
  if (toHex(commitmentDigest(digests)) !== commitment.digest || digests.length !== commitment.bundles) {
    return { status: 'contradicted', commitment, alert: await contradiction(deps, commitment, digests, []) };
  }
  if (!dayRootHolds(deps, commitment, coses)) {
    return {
      status: 'contradicted',
      commitment,
      alert: await contradiction(
        deps,
        commitment,
        digests,
        [],
        'do not match the day root (the Merkle root of their records) of its signed commitment',
      ),
    };
  }
  return { status: 'complete', commitment };
}

/**
 * A version 2 commitment's day root (PROOF.md §4) must be the Merkle root over the records of
 * the held bundles: the bundles matching the digest is not enough, the gateway signed the root
 * separately. Version 1 has none to check.
 */
function dayRootHolds(deps: CommitmentDeps, commitment: StoredCommitment, coses: Uint8Array[]): boolean {
  // Held already: a key removed since still verifies what it signed while in use.
  const resolve = (kid: Uint8Array) => deps.registry.resolveStored(kid)?.publicKey;
  const { commitment: signed } = verifyCommitment(commitment.cose, resolve);
  if (!signed.dayRoot) return true;
  const hashes: Uint8Array[] = [];
  for (const cose of coses) {
    const leaves = leavesOfBundle(cose, resolve);
    if (!leaves) return false; // a version 2 commitment over a bundle without leaves
    hashes.push(...leaves.leafHashes);
  }
  return Buffer.compare(MerkleTree.fromLeafHashes(hashes).root, signed.dayRoot) === 0;
}

async function contradiction(
  deps: CommitmentDeps,
  commitment: StoredCommitment,
  digests: Uint8Array[],
  forked: number[],
  why = 'do not match its signed commitment',
): Promise<RegionalAlert> {
  const { gatewayId, day } = commitment;
  const alert: RegionalAlert = {
    id: `equivocation|${gatewayId}|commitment-${day}`,
    kind: 'equivocation',
    gatewayId,
    seq: commitment.seqFirst,
    message:
      forked.length > 0
        ? `bundles ${commitment.seqFirst}..${commitment.seqLast} of ${gatewayId} fork at ${forked.join(', ')}; its commitment for day ${day} cannot be matched to one history`
        : `bundles ${commitment.seqFirst}..${commitment.seqLast} of ${gatewayId} ${why} for day ${day}`,
    details: {
      day,
      committedDigest: commitment.digest,
      heldDigest: toHex(commitmentDigest(digests)),
      ...(forked.length > 0 ? { forkedSeqs: forked } : {}),
      code: ErrorCode.RegionalEquivocation,
    },
    at: (deps.now ?? Date.now)(),
  };
  await deps.store.putAlert(alert);
  (deps.logger ?? silentLogger).warn({ gatewayId, day }, alert.message);
  return alert;
}
