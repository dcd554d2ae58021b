/**
 * Period statements at the regional node: a gateway signs one per closed month (and on request)
 * and sends it like a daily commitment; the node verifies it against the gateway's registered
 * keys and holds it once by digest, so that `maverick regional evidence` can cite it without the
 * operator fetching files from the gateway.
 */
import { bundleDigest } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { type ErrorCodeName, isMaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { verifyPeriodStatement } from '../proto/proof/period.js';
import type { GatewayRegistry } from './registry.js';
import type { RegionalStore, StoredPeriodStatement } from './store.js';

export type PeriodIngestResult =
  | { status: 'accepted' | 'duplicate'; gatewayId: string; fromDay: number; toDay: number }
  | { status: 'rejected'; reason: ErrorCodeName | 'Unknown'; message: string };

export interface PeriodIngestDeps {
  registry: GatewayRegistry;
  store: RegionalStore;
  now?: () => number;
  logger?: Logger;
}

export async function ingestPeriodStatement(
  deps: PeriodIngestDeps,
  bytes: Uint8Array,
  { source }: { source: string },
): Promise<PeriodIngestResult> {
  const log = deps.logger ?? silentLogger;
  try {
    await deps.registry.fresh();
    const verified = verifyPeriodStatement(bytes, (kid) => deps.registry.resolve(kid)?.publicKey);
    const gatewayId = verified.claims.iss;
    // The key must be registered to the gateway the statement names, not merely to some gateway.
    if (deps.registry.resolve(verified.kid)?.gatewayId !== gatewayId) {
      const message = `key ${toHex(verified.kid)} is not registered to ${gatewayId}`;
      log.warn({ source, reason: 'BundleUnknownKey', err: message }, 'period statement rejected');
      return { status: 'rejected', reason: 'BundleUnknownKey', message };
    }
    const { fromDay, toDay } = verified.statement;
    const stored: StoredPeriodStatement = {
      gatewayId,
      fromDay,
      toDay,
      digest: toHex(bundleDigest(bytes)),
      cose: bytes.slice(),
      receivedAt: (deps.now ?? Date.now)(),
      source,
    };
    const added = await deps.store.putPeriodStatement(stored);
    return { status: added ? 'accepted' : 'duplicate', gatewayId, fromDay, toDay };
  } catch (err) {
    if (!isMaverickError(err)) throw err;
    log.warn({ source, reason: err.codeName, err: err.message }, 'period statement rejected');
    return { status: 'rejected', reason: err.codeName, message: err.message };
  }
}

/**
 * The held statements of `gatewayIds` (all gateways when none is given) that lie inside
 * [fromDay, toDay]: what an evidence pack over those days may cite. Where two statements of one
 * gateway overlap, the one starting first wins (a monthly statement and an on-request one over
 * the same days would cite the same records twice).
 */
export async function statementsWithin(
  store: RegionalStore,
  fromDay: number,
  toDay: number,
): Promise<StoredPeriodStatement[]> {
  const chosen: StoredPeriodStatement[] = [];
  const endOf = new Map<string, number>();
  for (const s of await store.listPeriodStatements()) {
    if (s.fromDay < fromDay || s.toDay > toDay) continue;
    if (s.fromDay <= (endOf.get(s.gatewayId) ?? -1)) continue;
    chosen.push(s);
    endOf.set(s.gatewayId, s.toDay);
  }
  return chosen;
}
