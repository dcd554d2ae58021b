/**
 * Retention with a disk quota.
 *
 * Policy (documented in kernel/db/README.md):
 * 1. Raw uplinks and their readings older than `rawDays` go first, but only
 *    when they were sealed into a bundle that the regional node acknowledged:
 *    the signed bundle (kept) is then the evidence.
 * 2. Over the quota, sealed-and-acknowledged uplinks go oldest first whatever
 *    their age.
 * 3. Unsealed or unacknowledged evidence is NEVER dropped. When only such
 *    data is left and the store is still over quota, the pass reports an
 *    alarm (counted, logged at error level, shown by `doctor` and the
 *    metrics) and the gateway keeps storing until the disk itself is full,
 *    where writes fail with a clear StoreDiskFull error and nothing stored
 *    is lost.
 */
import type { MangoQuerySelector } from 'rxdb';
import { type Logger, silentLogger } from '../../proto/log.js';
import type { FarmDatabase } from './farm-db.js';
import type { UplinkDoc } from './schemas.js';

export interface RetentionOptions {
  nowMs: number;
  rawDays: number;
  /** Store size limit in bytes; no quota when absent. */
  quotaBytes?: number;
  /** Current store size in bytes (file + WAL). */
  sizeBytes: () => Promise<number>;
  logger?: Logger;
  /** Documents removed per step while over quota. */
  step?: number;
}

export interface RetentionResult {
  deletedUplinks: number;
  deletedReadings: number;
  /** Over quota with nothing left that may be dropped. */
  quotaAlarm: boolean;
  sizeBytes: number;
}

async function ackedSeqs(db: FarmDatabase): Promise<number[]> {
  const acked = await db.bundles.find({ selector: { syncState: 'acked' } }).exec();
  return acked.map((b) => b.seq);
}

async function dropUplinks(db: FarmDatabase, seqs: number[], beforeMs: number | undefined, limit: number) {
  const selector: MangoQuerySelector<UplinkDoc> = { sealedSeq: { $in: seqs } };
  if (beforeMs !== undefined) selector.receivedAt = { $lt: beforeMs };
  const docs = await db.uplinks.find({ selector, sort: [{ receivedAt: 'asc' }], limit }).exec();
  if (docs.length === 0) return { uplinks: 0, readings: 0 };
  const readings = docs.reduce((n, d) => n + (d.readings?.length ?? 0), 0);
  await db.uplinks.bulkRemove(docs.map((d) => d.id));
  return { uplinks: docs.length, readings };
}

export async function applyRetention(db: FarmDatabase, options: RetentionOptions): Promise<RetentionResult> {
  const logger = options.logger ?? silentLogger;
  const step = options.step ?? 500;
  const result: RetentionResult = { deletedUplinks: 0, deletedReadings: 0, quotaAlarm: false, sizeBytes: 0 };
  const seqs = await ackedSeqs(db);
  if (seqs.length > 0) {
    const cutoff = options.nowMs - options.rawDays * 86_400_000;
    for (;;) {
      const n = await dropUplinks(db, seqs, cutoff, step);
      result.deletedUplinks += n.uplinks;
      result.deletedReadings += n.readings;
      if (n.uplinks < step) break;
    }
  }
  result.sizeBytes = await options.sizeBytes();
  if (options.quotaBytes === undefined || result.sizeBytes <= options.quotaBytes) return result;

  // Over quota: drop acknowledged evidence oldest first, a step at a time, re-measuring.
  while (seqs.length > 0 && result.sizeBytes > options.quotaBytes) {
    const n = await dropUplinks(db, seqs, undefined, step);
    result.deletedUplinks += n.uplinks;
    result.deletedReadings += n.readings;
    result.sizeBytes = await options.sizeBytes();
    if (n.uplinks === 0) break;
  }
  if (result.sizeBytes > options.quotaBytes) {
    result.quotaAlarm = true;
    logger.error(
      { sizeBytes: result.sizeBytes, quotaBytes: options.quotaBytes },
      'store over quota and only unsealed or unsynced evidence is left: nothing dropped; sync the gateway or raise store.quota_mb',
    );
  }
  return result;
}
