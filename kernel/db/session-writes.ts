/**
 * How the network server's sessions reach the farm database: the batch write
 * behind RxdbNetworkRepository's group commit, and the test that decides which
 * session changes may be written behind (uplink progress only).
 */
import type { RxDocumentData } from 'rxdb';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { DeviceSession } from '../ns/types.js';
import type { FarmDatabase } from './farm-db.js';
import type { SessionDoc } from './schemas.js';

/** Attempts at a session batch whose stored versions another process keeps changing (409) before giving up. */
const SESSION_WRITE_ATTEMPTS = 3;

/**
 * Writes the latest state of each device's session in one storage transaction.
 *
 * Not `bulkUpsert`: for documents that exist (every session after the first
 * uplink) RxDB's upsert first runs a failing insert of all of them, then one
 * incremental write per document queue, building an RxDocument for each —
 * about three transactions and most of the CPU of a session batch. Here the
 * batch is written as updates of the versions in `stored` (what this process
 * last wrote, kept from the collection's change stream, so a session is not
 * read back before each write; only one never seen is read) through the
 * collection's (wrapped) storage instance, which sets revisions and
 * timestamps and emits the change events as any RxDB write does. A 409
 * (another process wrote in between) is retried against the version in storage.
 */
export async function writeSessions(
  db: FarmDatabase,
  items: readonly DeviceSession[],
  stored: Map<string, RxDocumentData<SessionDoc>>,
): Promise<void> {
  // The latest state per device wins within one transaction.
  const latest = new Map(items.map((s) => [s.devEui, s]));
  const now = Date.now();
  const instance = db.sessions.storageInstance;
  const unseen = [...latest.keys()].filter((devEui) => !stored.has(devEui));
  if (unseen.length > 0) {
    for (const doc of await instance.findDocumentsById(unseen, true)) stored.set(doc.devEui, doc);
  }
  let pending = [...latest.values()];
  for (let attempt = 0; attempt < SESSION_WRITE_ATTEMPTS && pending.length > 0; attempt++) {
    const rows = pending.map((s) => {
      const previous = stored.get(s.devEui);
      const document: RxDocumentData<SessionDoc> = {
        devEui: s.devEui,
        devAddr: s.devAddr,
        record: s as unknown as Record<string, unknown>,
        updatedAt: now,
        _deleted: false,
        _attachments: {},
        // Revision and write time are set by RxDB's storage wrapper.
        _meta: { lwt: now },
        _rev: previous?._rev ?? '',
      };
      return previous ? { previous, document } : { document };
    });
    const result = await instance.bulkWrite(rows, 'maverick-session-write');
    const conflicted = new Set<string>();
    for (const error of result.error) {
      if (error.status === 409 && error.documentInDb) {
        stored.set(error.documentId, error.documentInDb);
        conflicted.add(error.documentId);
        continue;
      }
      throw new MaverickError(
        ErrorCode.StoreIo,
        `session write of ${error.documentId} failed with status ${error.status}`,
        { context: { error } },
      );
    }
    pending = pending.filter((s) => conflicted.has(s.devEui));
  }
  if (pending.length > 0) {
    throw new MaverickError(
      ErrorCode.StoreConflict,
      `sessions of ${pending.map((s) => s.devEui).join(', ')} kept changing underneath; not written`,
      { hint: 'another process is writing sessions of the same devices; stop it and retry' },
    );
  }
}

/** What an accepted uplink advances by itself: the uplink counter and the ADR SNR history. */
const UPLINK_PROGRESS = new Set(['fCntUp', 'adrHistory']);

/** True when `next` differs from `prev` only in what an accepted uplink advances by itself. */
export function onlyUplinkProgress(prev: DeviceSession | undefined, next: DeviceSession): boolean {
  if (!prev || prev.devAddr !== next.devAddr || prev.nFCntDown !== next.nFCntDown) return false;
  return sameJson(prev, next, UPLINK_PROGRESS);
}

/**
 * Whether two JSON-shaped values would be stored alike (undefined = absent; key
 * order does not matter), ignoring the top-level keys in `skip`. Compared in
 * place: the uplink path ran two JSON.stringify of the whole session per uplink.
 */
function sameJson(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  // for…in, not Object.keys: no key array per object on the per-uplink path (sessions are plain data).
  let keys = 0;
  for (const key in left) {
    if (!Object.hasOwn(left, key) || skip?.has(key) || left[key] === undefined) continue;
    keys++;
    if (!sameJson(left[key], right[key])) return false;
  }
  for (const key in right) {
    if (!Object.hasOwn(right, key) || skip?.has(key) || right[key] === undefined) continue;
    keys--;
  }
  return keys === 0;
}
