/**
 * Writing bundles to PostgreSQL: a bundle's row values, the insert the full
 * chain path makes inside `withGateway`, and the one-step append of in-order
 * arrivals (RegionalStore.appendHead), batched over gateways.
 *
 * Batching: appends requested in one event-loop turn (the intake settles up to
 * `[intake] in_flight` items at once) go to PostgreSQL as one statement,
 * maverick_append_heads (migration 7), which runs maverick_append_head for
 * each in turn: one round trip and one commit for the lot. The statement is
 * its own transaction, so an item's row is visible (and acked) only once the
 * whole batch committed; a failure fails every item of the batch, and each is
 * retried as a failed item always is. Each append takes its gateway's advisory
 * lock and holds it to the commit, so a batch takes them in ascending key
 * order: two workers' batches then never wait on each other in a cycle.
 */
import type pg from 'pg';
import type { PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import type { Queryable } from './pg-chain.js';
import { hexToBytes } from './pg-rows.js';
import type { StoredBundle } from './store.js';

export interface PlotDefinitionRow {
  geometryHash: string;
  plotId: string;
  definition: PlotDefinition;
}

/** A bundle's row (16 columns, without `disputed`), its plot evidence rows and its plot definitions, as columns. */
export interface BundleValues {
  row: unknown[];
  evidence: [string[], number[], number[]];
  definitions: [string[], string[], string[]];
}

/** The values of a bundle's row, its plot evidence index rows and the plot definitions it carried. */
export function bundleValues(
  b: StoredBundle,
  uplinks: UplinkRecord[],
  definitions: PlotDefinitionRow[],
): BundleValues {
  const spans = new Map<string, { first: number; last: number }>();
  for (const u of uplinks) {
    if (u.plotId === null) continue;
    const span = spans.get(u.plotId);
    if (!span) spans.set(u.plotId, { first: u.receivedAt, last: u.receivedAt });
    else {
      if (u.receivedAt < span.first) span.first = u.receivedAt;
      if (u.receivedAt > span.last) span.last = u.receivedAt;
    }
  }
  return {
    row: [
      hexToBytes(b.digest),
      b.gatewayId,
      b.seq,
      hexToBytes(b.prevHash),
      hexToBytes(b.kid),
      // A view, not a copy: the intake's bytes are already the bundle's own.
      Buffer.from(b.cose.buffer, b.cose.byteOffset, b.cose.byteLength),
      b.iat,
      b.sub,
      b.timeStart,
      b.timeEnd,
      b.uplinkCount,
      JSON.stringify(b.timeSources),
      JSON.stringify(b.plots),
      // Summaries the COSE bytes hold are not stored twice: toStored reads them from there.
      b.devicesFromCose
        ? null
        : JSON.stringify(b.devices.map((d) => ({ ...d, devEui: Buffer.from(d.devEui).toString('hex') }))),
      b.receivedAt,
      b.source,
    ],
    evidence: [
      [...spans.keys()],
      [...spans.values()].map((x) => x.first),
      [...spans.values()].map((x) => x.last),
    ],
    definitions: [
      definitions.map((d) => d.geometryHash),
      definitions.map((d) => d.plotId),
      definitions.map((d) => JSON.stringify(d.definition)),
    ],
  };
}

/**
 * One statement: the bundle row, its plot evidence index rows and any plot
 * definitions it carried (a bundle already held inserts nothing). The uplinks
 * and device summaries are not stored again: evidenceForPlot and toStored
 * read them from `cose`.
 */
export async function insertBundle(
  client: Queryable,
  b: StoredBundle,
  uplinks: UplinkRecord[],
  definitions: PlotDefinitionRow[],
): Promise<void> {
  const values = bundleValues(b, uplinks, definitions);
  await client.query({
    name: 'insert-bundle',
    text: `WITH b AS (
             INSERT INTO bundles (digest, gateway_id, seq, prev_hash, kid, cose, iat, sub, time_start, time_end,
               uplink_count, time_sources, plots, devices, received_at, source, disputed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (digest) DO NOTHING RETURNING digest
           ), e AS (
             INSERT INTO plot_evidence (bundle, plot_id, gateway_id, seq, first_at, last_at)
             SELECT b.digest, x.p, $2, $3, x.f, x.l FROM b, unnest($18::text[], $19::bigint[], $20::bigint[]) AS x(p, f, l)
             ON CONFLICT DO NOTHING
           )
           INSERT INTO plot_definitions (geometry_hash, plot_id, definition)
           SELECT * FROM unnest($21::text[], $22::text[], $23::jsonb[])
           ON CONFLICT (geometry_hash) DO NOTHING`,
    values: [...values.row, b.disputed, ...values.evidence, ...values.definitions],
  });
}

interface PendingAppend {
  lockKey: bigint;
  values: BundleValues;
  resolve: (stored: boolean) => void;
  reject: (err: unknown) => void;
}

/** Appends of one turn, sent together (see the file's comment). */
export class HeadAppender {
  private queue: PendingAppend[] = [];
  private scheduled = false;

  constructor(
    private readonly pool: pg.Pool,
    /** Most appends in one statement. */
    private readonly maxBatch = 64,
  ) {}

  /** True when stored as the gateway's new head; false when it was not (nothing stored). */
  append(lockKey: string, values: BundleValues): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ lockKey: BigInt(lockKey), values, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.queue.length > 0) void this.send(this.queue.splice(0, this.maxBatch));
  }

  private async send(batch: PendingAppend[]): Promise<void> {
    batch.sort((a, b) => (a.lockKey < b.lockKey ? -1 : a.lockKey > b.lockKey ? 1 : 0));
    try {
      const { rows } = await this.pool.query<{ stored: boolean[] }>({
        name: 'append-heads',
        // The COSE bytes of the batch go as one binary parameter ($7, cut by $26/$27 into the array the
        // function takes), not as a bytea[] text literal: a bundle's ~3 KB would go as ~6 KB of hex,
        // escaped by the client and parsed by the server.
        text: `SELECT maverick_append_heads($1::bigint[], $2::bytea[], $3::text[], $4::bigint[], $5::bytea[],
                 $6::bytea[],
                 ARRAY(SELECT substring($7::bytea FROM x.at FOR x.length)
                       FROM unnest($26::integer[], $27::integer[]) WITH ORDINALITY AS x(at, length, n) ORDER BY x.n),
                 $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::integer[],
                 $13::jsonb[], $14::jsonb[], $15::jsonb[], $16::bigint[], $17::text[], $18::integer[], $19::text[],
                 $20::bigint[], $21::bigint[], $22::integer[], $23::text[], $24::text[], $25::jsonb[]) AS stored`,
        values: batchColumns(batch),
      });
      const stored = rows[0]?.stored ?? [];
      batch.forEach((p, i) => {
        p.resolve(stored[i] === true);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/** Index of the COSE bytes in a bundle's row values. */
const COSE_COLUMN = 5;

/**
 * The batch as the statement's parameters: 25 arrays, one element per append (evidence and
 * definitions flattened with their append's 1-based index), except the COSE bytes, which go
 * end to end in one buffer ($7) with their 1-based offsets and lengths last ($26, $27).
 */
function batchColumns(batch: PendingAppend[]): unknown[] {
  const rowColumns: unknown[] = Array.from({ length: 16 }, (_, c) => batch.map((p) => p.values.row[c]));
  const coses = batch.map((p) => p.values.row[COSE_COLUMN] as Buffer);
  const offsets: number[] = [];
  let at = 1;
  for (const cose of coses) {
    offsets.push(at);
    at += cose.length;
  }
  rowColumns[COSE_COLUMN] = Buffer.concat(coses);
  const flat = (pick: (v: BundleValues) => unknown[][]) => {
    const columns: unknown[][] = [[], ...pick((batch[0] as PendingAppend).values).map(() => [])];
    batch.forEach((p, i) => {
      const parts = pick(p.values);
      for (let k = 0; k < (parts[0]?.length ?? 0); k++) {
        (columns[0] as unknown[]).push(i + 1);
        parts.forEach((part, c) => {
          (columns[c + 1] as unknown[]).push(part[k]);
        });
      }
    });
    return columns;
  };
  return [
    batch.map((p) => p.lockKey.toString()),
    ...rowColumns,
    ...flat((v) => v.evidence),
    ...flat((v) => v.definitions),
    offsets,
    coses.map((c) => c.length),
  ];
}
