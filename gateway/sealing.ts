/**
 * Builds the gateway's sealer over the farm database: unsealed uplinks in,
 * signed bundles into the `bundles` collection (the outbox), the chain head
 * in `<dataDir>/sealer/`, signed with the gateway key.
 */
import { join } from 'node:path';
import { type SealedBundle, Sealer } from '../kernel/bundle/sealer.js';
import { FileSequenceStore } from '../kernel/bundle/sequence-store.js';
import { DailyCommitments } from '../kernel/db/commitments.js';
import type { FarmDatabase } from '../kernel/db/farm-db.js';
import { PeriodStatements } from '../kernel/db/period-statements.js';
import { FarmBundleSink, FarmPlotDirectory, FarmUplinkSource } from '../kernel/db/sealing.js';
import { loadGatewayKey } from '../kernel/keys/gateway-key.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { bundleDigest } from '../proto/bundle/bundle.js';
import type { SigningKey } from '../proto/bundle/cose.js';
import { toHex } from '../proto/bundle/ed25519.js';
import type { Logger } from '../proto/log.js';

export interface SealingOptions {
  /** Seal at least this often when anything is unsealed (default 1 h). */
  periodMs?: number;
  /** How often the schedule is checked (default 1 min). */
  checkEveryMs?: number;
  /** Seal early once this many uplinks wait (default 5000). */
  maxUplinksPerBundle?: number;
  /** CWT `sub`: the farm scope the evidence is about (default "farm"). */
  scope?: string;
  /** Clock of the schedule (the demo runs simulated time). */
  now?: () => number;
  onSealed?: (bundle: SealedBundle) => void;
  /** Whether the gateway is busy with uplinks: timed seals wait (Sealer's `busy`). */
  busy?: () => boolean;
}

/** The gateway's daily commitments, signed with the same gateway key as its bundles. */
export async function createDailyCommitments(
  dataDir: string,
  db: FarmDatabase,
  gatewayId: string,
  scope = 'farm',
): Promise<DailyCommitments> {
  const key = await loadGatewayKey(dataDir);
  return new DailyCommitments(db, { kid: key.kid, secretKey: key.secretKey }, () => ({
    iss: gatewayId,
    sub: scope,
    iat: Math.floor(Date.now() / 1000),
  }));
}

/**
 * The gateway's period statements (proto/proof/PROOF.md §5), signed with the gateway key. Each
 * new statement goes into the outbox (kind `statement`), so that the regional node holds the
 * statements its evidence packs cite, as it holds the daily commitments.
 */
export async function createPeriodStatements(
  dataDir: string,
  db: FarmDatabase,
  gatewayId: string,
  scope = 'farm',
): Promise<PeriodStatements> {
  const key = await loadGatewayKey(dataDir);
  return outboxedPeriodStatements(db, { kid: key.kid, secretKey: key.secretKey }, gatewayId, scope);
}

/** Period statements signed with `key` that enqueue each new statement for the regional node. */
export function outboxedPeriodStatements(
  db: FarmDatabase,
  key: SigningKey,
  gatewayId: string,
  scope = 'farm',
): PeriodStatements {
  const outbox = new RxdbOutboxStore(db);
  return new PeriodStatements(
    db,
    key,
    () => ({ iss: gatewayId, sub: scope, iat: Math.floor(Date.now() / 1000) }),
    (signed) =>
      outbox.put({
        digest: toHex(bundleDigest(signed.cose)),
        kind: 'statement',
        seq: signed.fromDay,
        bytes: signed.cose,
        createdAt: Date.now(),
      }),
  );
}

export async function createSealer(
  dataDir: string,
  db: FarmDatabase,
  gatewayId: string,
  options: SealingOptions,
  logger: Logger,
): Promise<Sealer> {
  const key = await loadGatewayKey(dataDir);
  return new Sealer({
    source: new FarmUplinkSource(db),
    sink: new FarmBundleSink(db, options.onSealed),
    sequences: new FileSequenceStore(join(dataDir, 'sealer')),
    plots: new FarmPlotDirectory(db),
    key: { kid: key.kid, secretKey: key.secretKey },
    gatewayId,
    scope: options.scope ?? 'farm',
    ...(options.periodMs !== undefined ? { periodMs: options.periodMs } : {}),
    ...(options.maxUplinksPerBundle !== undefined
      ? { maxUplinksPerBundle: options.maxUplinksPerBundle }
      : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.busy ? { busy: options.busy } : {}),
    logger: logger.child({ component: 'sealer' }),
  });
}
