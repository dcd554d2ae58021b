/**
 * Satellite reassembly state (link-state.ts) in the embedded RxDB store, as
 * small keyed records in its `regional_records` collection (no new
 * collection: RxDB allows 13 per process):
 *   link-partial   id `link-partial|<sender>|<item>`, gatewayId = sender
 *   link-fragment  id `link-fragment|<sender>|<item>|<index>`, gatewayId = `<sender>|<item>`
 *   link-settled   id `link-settled|<item>`
 * An embedded store has one process, and satellite traffic is a few messages
 * a minute: all link-state work runs one at a time in a queue here, so a
 * prune never removes a partial a message is working on.
 */
import type { RxCollection } from 'rxdb';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { ItemKind } from '../proto/link/fragment.js';
import type { ItemStatus } from '../proto/link/status.js';
import {
  type LinkStateLimits,
  type LinkStateStore,
  type LinkStateUsage,
  type MessageSlot,
  type PartialMessage,
  partialsToDrop,
} from './link-state.js';

/** The shape of a regional_records document (rxdb-store.ts). */
export interface LinkRecordDoc {
  id: string;
  kind: string;
  gatewayId: string;
  at: number;
  data: Record<string, unknown>;
}

const partialId = (sender: string, item: string) => `link-partial|${sender}|${item}`;
const fragmentId = (sender: string, item: string, index: number) =>
  `link-fragment|${sender}|${item}|${String(index).padStart(5, '0')}`;
const settledId = (item: string) => `link-settled|${item}`;

interface PartialData {
  kind: ItemKind;
  count: number;
  received: number;
  bytes: number;
  bitmap: string;
  startedAt: number;
  item: string;
}

const toPartial = (data: PartialData, touchedAt: number): PartialMessage => ({
  kind: data.kind,
  count: data.count,
  received: data.received,
  bytes: data.bytes,
  bitmap: new Uint8Array(Buffer.from(data.bitmap, 'hex')),
  startedAt: data.startedAt,
  touchedAt,
});

export class RxdbLinkState implements LinkStateStore {
  private queue: Promise<unknown> = Promise.resolve();
  /** Senders with a partial, by item id: this process is the only writer, so settling needs no scan. */
  private partialsByItem: Map<string, Set<string>> | undefined;

  constructor(private readonly records: RxCollection<LinkRecordDoc>) {}

  /** Runs link-state work one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async removeFragments(sender: string, item: string): Promise<void> {
    await this.records.find({ selector: { kind: 'link-fragment', gatewayId: `${sender}|${item}` } }).remove();
  }

  private async senders(item: string): Promise<Set<string>> {
    if (!this.partialsByItem) {
      this.partialsByItem = new Map();
      const docs = await this.records.find({ selector: { kind: 'link-partial' } }).exec();
      for (const d of docs) this.noteSender(String(d.data.item), d.gatewayId);
    }
    return this.partialsByItem.get(item) ?? new Set();
  }

  private noteSender(item: string, sender: string): void {
    const map = this.partialsByItem;
    if (!map) return;
    const set = map.get(item) ?? new Set();
    set.add(sender);
    map.set(item, set);
  }

  private async dropPartial(sender: string, item: string): Promise<void> {
    await this.removeFragments(sender, item);
    await this.records.findOne(partialId(sender, item)).remove();
    const set = this.partialsByItem?.get(item);
    set?.delete(sender);
    if (set?.size === 0) this.partialsByItem?.delete(item);
  }

  withMessage<T>(sender: string, itemId: string, fn: (slot: MessageSlot) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const doc = await this.records.findOne(partialId(sender, itemId)).exec();
      let current = doc ? toPartial(doc.toMutableJSON().data as unknown as PartialData, doc.at) : undefined;
      const write = async (p: PartialMessage) => {
        const data: PartialData = {
          kind: p.kind,
          count: p.count,
          received: p.received,
          bytes: p.bytes,
          bitmap: Buffer.from(p.bitmap).toString('hex'),
          startedAt: p.startedAt,
          item: itemId,
        };
        await this.records.upsert({
          id: partialId(sender, itemId),
          kind: 'link-partial',
          gatewayId: sender,
          at: p.touchedAt,
          data: data as unknown as Record<string, unknown>,
        });
      };
      const slot: MessageSlot = {
        partial: async () => current,
        settled: async () => {
          const settled = await this.records.findOne(settledId(itemId)).exec();
          return settled ? (settled.data.status as ItemStatus) : undefined;
        },
        begin: async (shape, at) => {
          await this.removeFragments(sender, itemId);
          current = {
            kind: shape.kind,
            count: shape.count,
            received: 0,
            bytes: 0,
            bitmap: new Uint8Array(Math.ceil(shape.count / 8)),
            startedAt: at,
            touchedAt: at,
          };
          await write(current);
          await this.senders(itemId);
          this.noteSender(itemId, sender);
          return { ...current, bitmap: current.bitmap.slice() };
        },
        addFragment: async (index, payload, at) => {
          if (!current)
            throw new MaverickError(ErrorCode.LinkFragment, 'a fragment was added before its item began', {
              hint: 'the reassembler must call begin() first; this is a bug in Maverick, please report it',
            });
          const bitmap = current.bitmap.slice();
          const held = ((bitmap[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
          if (!held) {
            await this.records.upsert({
              id: fragmentId(sender, itemId, index),
              kind: 'link-fragment',
              gatewayId: `${sender}|${itemId}`,
              at: index,
              data: { payload: Buffer.from(payload).toString('base64') },
            });
            bitmap[index >> 3] = (bitmap[index >> 3] ?? 0) | (1 << (index & 7));
          }
          current = {
            ...current,
            received: current.received + (held ? 0 : 1),
            bytes: current.bytes + (held ? 0 : payload.length),
            bitmap,
            touchedAt: at,
          };
          await write(current);
          return { ...current, bitmap: bitmap.slice() };
        },
        payloads: async () => {
          const docs = await this.records
            .find({ selector: { kind: 'link-fragment', gatewayId: `${sender}|${itemId}` } })
            .exec();
          return docs
            .sort((a, b) => a.at - b.at)
            .map((d) => new Uint8Array(Buffer.from(String(d.data.payload), 'base64')));
        },
        drop: async () => {
          await this.dropPartial(sender, itemId);
          current = undefined;
        },
      };
      return fn(slot);
    });
  }

  settle(
    itemId: string,
    status: ItemStatus,
    at: number,
    remember: number,
    onlyIfPartial = false,
  ): Promise<void> {
    return this.exclusive(async () => {
      const senders = [...(await this.senders(itemId))];
      if (onlyIfPartial && senders.length === 0) return;
      for (const sender of senders) await this.dropPartial(sender, itemId);
      if (status === 'rejected') {
        await this.records.findOne(settledId(itemId)).remove();
        return;
      }
      await this.records.upsert({
        id: settledId(itemId),
        kind: 'link-settled',
        gatewayId: '',
        at,
        data: { status },
      });
      const settled = await this.records.find({ selector: { kind: 'link-settled' } }).exec();
      if (settled.length <= remember) return;
      const oldest = settled.sort((a, b) => a.at - b.at).slice(0, settled.length - remember);
      for (const d of oldest) await d.remove();
    });
  }

  prune(limits: LinkStateLimits, now: number): Promise<number> {
    return this.exclusive(async () => {
      const partials = await this.records.find({ selector: { kind: 'link-partial' } }).exec();
      const doomed = partialsToDrop(
        partials.map((d) => ({ key: d, sender: d.gatewayId, bytes: Number(d.data.bytes), touchedAt: d.at })),
        limits,
        now,
      );
      for (const d of doomed) await this.dropPartial(d.gatewayId, String(d.data.item));
      return doomed.length;
    });
  }

  usage(): Promise<LinkStateUsage> {
    return this.exclusive(async () => {
      const partials = await this.records.find({ selector: { kind: 'link-partial' } }).exec();
      const fragments = await this.records.find({ selector: { kind: 'link-fragment' } }).exec();
      const settled = await this.records.find({ selector: { kind: 'link-settled' } }).exec();
      return {
        partials: partials.length,
        fragments: fragments.length,
        bytes: partials.reduce((n, d) => n + Number(d.data.bytes), 0),
        settled: settled.length,
      };
    });
  }
}
