/**
 * Satellite reassembly state (link-state.ts) in PostgreSQL: tables
 * link_partials, link_fragments (cascading with their partial) and
 * link_settled, from migration 4. `withMessage` is one transaction under a
 * transaction-scoped advisory lock keyed by (sender, item id), so two workers
 * taking fragments of one message at once run one after the other, and the
 * partial's row is held FOR UPDATE so a concurrent prune skips it. Pruning
 * deletes with SKIP LOCKED and never waits on a message in progress.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import type { ItemKind } from '../proto/link/fragment.js';
import type { ItemStatus } from '../proto/link/status.js';
import type { Logger } from '../proto/log.js';
import {
  type LinkStateLimits,
  type LinkStateStore,
  type LinkStateUsage,
  type MessageSlot,
  type PartialMessage,
  partialsToDrop,
} from './link-state.js';

/** A stable signed 64-bit advisory-lock key per (sender, item id), apart from the gateway keys. */
export function messageLockKey(sender: string, itemId: string): string {
  return createHash('sha256')
    .update('maverick-message\u0000')
    .update(sender)
    .update('\u0000')
    .update(itemId)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

interface PartialRow {
  kind: ItemKind;
  count: number;
  received: number;
  bytes: number;
  bitmap: Buffer;
  started_at: string;
  touched_at: string;
}

const toPartial = (r: PartialRow): PartialMessage => ({
  kind: r.kind,
  count: r.count,
  received: r.received,
  bytes: r.bytes,
  bitmap: new Uint8Array(r.bitmap),
  startedAt: Number(r.started_at),
  touchedAt: Number(r.touched_at),
});

export class PgLinkState implements LinkStateStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A connection that loses its server emits 'error'; unheard, that would end the process.
    const onError = (err: Error) => {
      broken = true;
      this.log.warn({ err: describeError(err) }, 'PostgreSQL connection lost during satellite reassembly');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  withMessage<T>(sender: string, itemId: string, fn: (slot: MessageSlot) => Promise<T>): Promise<T> {
    const id = Buffer.from(itemId, 'hex');
    return this.transaction(async (client) => {
      await client.query({
        name: 'lock-message',
        text: 'SELECT pg_advisory_xact_lock($1)',
        values: [messageLockKey(sender, itemId)],
      });
      const read = async (): Promise<PartialMessage | undefined> => {
        const { rows } = await client.query<PartialRow>({
          name: 'link-partial',
          text: `SELECT kind, count, received, bytes, bitmap, started_at, touched_at FROM link_partials
                 WHERE sender = $1 AND item_id = $2 FOR UPDATE`,
          values: [sender, id],
        });
        return rows[0] ? toPartial(rows[0]) : undefined;
      };
      let current = await read();
      const slot: MessageSlot = {
        partial: async () => current,
        settled: async () => {
          const { rows } = await client.query<{ status: ItemStatus }>({
            name: 'link-settled',
            text: 'SELECT status FROM link_settled WHERE item_id = $1',
            values: [id],
          });
          return rows[0]?.status;
        },
        begin: async (shape, at) => {
          await client.query('DELETE FROM link_partials WHERE sender = $1 AND item_id = $2', [sender, id]);
          const bitmap = Buffer.alloc(Math.ceil(shape.count / 8));
          await client.query({
            name: 'link-begin',
            text: `INSERT INTO link_partials (sender, item_id, kind, count, received, bytes, bitmap, started_at, touched_at)
                   VALUES ($1, $2, $3, $4, 0, 0, $5, $6, $6)`,
            values: [sender, id, shape.kind, shape.count, bitmap, at],
          });
          current = {
            kind: shape.kind,
            count: shape.count,
            received: 0,
            bytes: 0,
            bitmap,
            startedAt: at,
            touchedAt: at,
          };
          return { ...current, bitmap: new Uint8Array(bitmap) };
        },
        addFragment: async (index, payload, at) => {
          if (!current)
            throw new MaverickError(ErrorCode.LinkFragment, 'a fragment was added before its item began', {
              hint: 'the reassembler must call begin() first; this is a bug in Maverick, please report it',
            });
          const { rowCount } = await client.query({
            name: 'link-fragment',
            text: `INSERT INTO link_fragments (sender, item_id, idx, payload) VALUES ($1, $2, $3, $4)
                   ON CONFLICT DO NOTHING`,
            values: [sender, id, index, payload],
          });
          const bitmap = new Uint8Array(current.bitmap);
          if (rowCount === 1) bitmap[index >> 3] = (bitmap[index >> 3] ?? 0) | (1 << (index & 7));
          current = {
            ...current,
            received: current.received + (rowCount === 1 ? 1 : 0),
            bytes: current.bytes + (rowCount === 1 ? payload.length : 0),
            bitmap,
            touchedAt: at,
          };
          await client.query({
            name: 'link-touch',
            text: `UPDATE link_partials SET received = $3, bytes = $4, bitmap = $5, touched_at = $6
                   WHERE sender = $1 AND item_id = $2`,
            values: [sender, id, current.received, current.bytes, Buffer.from(bitmap), at],
          });
          return { ...current, bitmap: new Uint8Array(bitmap) };
        },
        payloads: async () => {
          const { rows } = await client.query<{ payload: Buffer }>({
            name: 'link-payloads',
            text: 'SELECT payload FROM link_fragments WHERE sender = $1 AND item_id = $2 ORDER BY idx',
            values: [sender, id],
          });
          return rows.map((r) => new Uint8Array(r.payload));
        },
        drop: async () => {
          await client.query('DELETE FROM link_partials WHERE sender = $1 AND item_id = $2', [sender, id]);
          current = undefined;
        },
      };
      return fn(slot);
    });
  }

  async settle(
    itemId: string,
    status: ItemStatus,
    at: number,
    remember: number,
    onlyIfPartial = false,
  ): Promise<void> {
    const id = Buffer.from(itemId, 'hex');
    if (onlyIfPartial) {
      const { rowCount } = await this.pool.query({
        name: 'link-settle-partials',
        text: 'DELETE FROM link_partials WHERE item_id = $1',
        values: [id],
      });
      if (!rowCount) return;
    }
    await this.transaction(async (client) => {
      // Partials of this id that another worker holds right now are left to it (and to expiry).
      await client.query(
        `DELETE FROM link_partials WHERE (sender, item_id) IN
           (SELECT sender, item_id FROM link_partials WHERE item_id = $1 FOR UPDATE SKIP LOCKED)`,
        [id],
      );
      if (status === 'rejected') {
        await client.query('DELETE FROM link_settled WHERE item_id = $1', [id]);
        return;
      }
      await client.query({
        name: 'link-settle',
        text: `INSERT INTO link_settled (item_id, status, settled_at) VALUES ($1, $2, $3)
               ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, settled_at = excluded.settled_at`,
        values: [id, status, at],
      });
      await client.query(
        `DELETE FROM link_settled WHERE item_id IN
           (SELECT item_id FROM link_settled ORDER BY settled_at DESC OFFSET $1 FOR UPDATE SKIP LOCKED)`,
        [remember],
      );
    });
  }

  async prune(limits: LinkStateLimits, now: number): Promise<number> {
    const { rows } = await this.pool.query<{
      sender: string;
      item_id: Buffer;
      bytes: number;
      touched_at: string;
    }>('SELECT sender, item_id, bytes, touched_at FROM link_partials');
    const doomed = partialsToDrop(
      rows.map((r) => ({ key: r, sender: r.sender, bytes: r.bytes, touchedAt: Number(r.touched_at) })),
      limits,
      now,
    );
    if (doomed.length === 0) return 0;
    const { rowCount } = await this.pool.query(
      `DELETE FROM link_partials WHERE (sender, item_id) IN
         (SELECT sender, item_id FROM link_partials
          WHERE (sender, item_id) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))
          FOR UPDATE SKIP LOCKED)`,
      [doomed.map((r) => r.sender), doomed.map((r) => r.item_id)],
    );
    return rowCount ?? 0;
  }

  async usage(): Promise<LinkStateUsage> {
    const { rows } = await this.pool.query<{
      partials: number;
      fragments: number;
      bytes: number;
      settled: number;
    }>(
      `SELECT (SELECT count(*) FROM link_partials)::int AS partials,
              (SELECT count(*) FROM link_fragments)::int AS fragments,
              (SELECT coalesce(sum(length(payload)), 0) FROM link_fragments)::int AS bytes,
              (SELECT count(*) FROM link_settled)::int AS settled`,
    );
    const r = rows[0];
    return {
      partials: r?.partials ?? 0,
      fragments: r?.fragments ?? 0,
      bytes: r?.bytes ?? 0,
      settled: r?.settled ?? 0,
    };
  }
}
