/**
 * The outbox's durable state in the farm database: bundles and commitments
 * are the `bundles` collection's documents (syncState pending → acked, the
 * sealer's sink writes them, the outbox reads them); alarms, diagnostics,
 * fragment progress and spending counters are small `kv` documents.
 * On the SQLite storage every write is one fsynced transaction, so a restart
 * resumes exactly where the last write left it.
 */
import { bundleDigest } from '../../proto/bundle/bundle.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { FarmDatabase } from '../db/farm-db.js';
import { type BundleDoc, bundleId } from '../db/schemas.js';
import type { FragmentProgress, ItemKind, OutboxItem, OutboxStore } from './types.js';

const ITEM_PREFIX = 'outbox:item:';
const PROGRESS_PREFIX = 'outbox:progress:';
// One past ':' in code-point order: the upper bound of a prefix range query.
const prefixEnd = (prefix: string): string => `${prefix.slice(0, -1)};`;

function docIdFor(item: Pick<OutboxItem, 'kind' | 'seq'>): string {
  return item.kind === 'commitment'
    ? `commitment-${item.seq.toString().padStart(8, '0')}`
    : bundleId(item.seq);
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

interface KvItem {
  kind: ItemKind;
  seq: number;
  bytes: string;
  createdAt: number;
  acked: boolean;
  ackedAt?: number;
}

export class RxdbOutboxStore implements OutboxStore {
  constructor(
    private readonly db: FarmDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  async put(item: OutboxItem): Promise<void> {
    const actual = toHex(bundleDigest(item.bytes));
    if (actual !== item.digest) {
      throw new MaverickError(
        ErrorCode.BundleMalformed,
        `outbox item digest ${item.digest} does not match its bytes (${actual})`,
      );
    }
    if (item.kind === 'bundle' || item.kind === 'commitment') {
      const id = docIdFor(item);
      const held = await this.db.bundles.findOne(id).exec();
      if (held) {
        if (held.digest !== item.digest) {
          throw new MaverickError(
            ErrorCode.BundleSequence,
            `${item.kind} ${item.seq} is already in the outbox with another digest`,
            {
              hint: 'a sequence number is signed once; this is a sealer bug or a restored backup',
            },
          );
        }
        return;
      }
      const doc: BundleDoc = {
        id,
        seq: item.seq,
        cose: b64(item.bytes),
        digest: item.digest,
        kind: item.kind,
        fromMs: item.fromMs ?? item.createdAt,
        toMs: item.toMs ?? item.createdAt,
        uplinkCount: item.uplinkCount ?? 0,
        createdAt: item.createdAt,
        syncState: 'pending',
      };
      await this.db.bundles.insert(doc);
      return;
    }
    const key = `${ITEM_PREFIX}${item.digest}`;
    if (await this.db.kv.findOne(key).exec()) return;
    const value: KvItem = {
      kind: item.kind,
      seq: item.seq,
      bytes: b64(item.bytes),
      createdAt: item.createdAt,
      acked: false,
    };
    await this.db.kv.insert({ key, value: { ...value }, updatedAt: this.now() });
  }

  async pending(): Promise<OutboxItem[]> {
    const docs = await this.db.bundles.find({ selector: { syncState: 'pending' } }).exec();
    const items: OutboxItem[] = docs.map((d) => ({
      digest: d.digest,
      kind: d.kind,
      seq: d.seq,
      bytes: fromB64(d.cose),
      createdAt: d.createdAt,
      fromMs: d.fromMs,
      toMs: d.toMs,
      uplinkCount: d.uplinkCount,
    }));
    const kv = await this.db.kv
      .find({ selector: { key: { $gte: ITEM_PREFIX, $lt: prefixEnd(ITEM_PREFIX) } } })
      .exec();
    for (const doc of kv) {
      const v = doc.value as unknown as KvItem;
      if (v.acked) continue;
      items.push({
        digest: doc.key.slice(ITEM_PREFIX.length),
        kind: v.kind,
        seq: v.seq,
        bytes: fromB64(v.bytes),
        createdAt: v.createdAt,
      });
    }
    return items;
  }

  async bytesOf(item: Pick<OutboxItem, 'digest' | 'kind' | 'seq'>): Promise<Uint8Array | undefined> {
    if (item.kind === 'bundle' || item.kind === 'commitment') {
      // By primary key (kind and sequence), then checked: a key that now holds another item is not this one.
      const doc = await this.db.bundles.findOne(docIdFor(item)).exec();
      return doc && doc.digest === item.digest ? fromB64(doc.cose) : undefined;
    }
    const kv = await this.db.kv.findOne(`${ITEM_PREFIX}${item.digest}`).exec();
    return kv ? fromB64((kv.value as unknown as KvItem).bytes) : undefined;
  }

  async markAcked(digest: string, at: number): Promise<boolean> {
    // Only pending documents can be retired; the (syncState, seq) index keeps this off the acked history.
    const doc = await this.db.bundles.findOne({ selector: { syncState: 'pending', digest } }).exec();
    if (doc) {
      await doc.incrementalPatch({ syncState: 'acked', ackedAt: at });
      return true;
    }
    const kv = await this.db.kv.findOne(`${ITEM_PREFIX}${digest}`).exec();
    if (!kv || (kv.value as unknown as KvItem).acked) return false;
    await kv.incrementalPatch({ value: { ...kv.value, acked: true, ackedAt: at }, updatedAt: this.now() });
    return true;
  }

  async getProgress(digest: string): Promise<FragmentProgress | undefined> {
    const doc = await this.db.kv.findOne(`${PROGRESS_PREFIX}${digest}`).exec();
    if (!doc) return undefined;
    const v = doc.value as {
      count: number;
      bitmap: string;
      sent?: string;
      silentRounds?: number;
      lastSentAt?: number;
    };
    const bitmap = fromB64(v.bitmap);
    return {
      count: v.count,
      bitmap,
      sent: v.sent ? fromB64(v.sent) : bitmap.slice(),
      silentRounds: v.silentRounds ?? 0,
      ...(v.lastSentAt === undefined ? {} : { lastSentAt: v.lastSentAt }),
    };
  }

  async setProgress(digest: string, progress: FragmentProgress | undefined): Promise<void> {
    const key = `${PROGRESS_PREFIX}${digest}`;
    if (!progress) {
      const doc = await this.db.kv.findOne(key).exec();
      if (doc) await doc.remove();
      return;
    }
    await this.db.kv.upsert({
      key,
      value: {
        count: progress.count,
        bitmap: b64(progress.bitmap),
        sent: b64(progress.sent),
        silentRounds: progress.silentRounds,
        ...(progress.lastSentAt === undefined ? {} : { lastSentAt: progress.lastSentAt }),
      },
      updatedAt: this.now(),
    });
  }

  async getCounter(key: string): Promise<number> {
    const doc = await this.db.kv.findOne(key).exec();
    const n = doc?.value.n;
    return typeof n === 'number' ? n : 0;
  }

  async setCounter(key: string, value: number): Promise<void> {
    await this.db.kv.upsert({ key, value: { n: value }, updatedAt: this.now() });
  }
}
