/**
 * RegionalStore on PostgreSQL (client `pg`), for a region served by several
 * stateless workers. Schema and migrations: pg-migrations.ts.
 *
 * `withGateway` is one transaction that first takes a transaction-scoped
 * advisory lock keyed by the gateway id, so chain work for one gateway is
 * serialised across every worker and connection while different gateways
 * proceed in parallel; a throw rolls the whole item back, so nothing of an
 * item is visible unless all of it committed. Hot statements are named
 * (prepared once per connection).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { decodeStoredBundle } from '../proto/bundle/bundle.js';
import type { DeviceSummary, PlotDefinition, TimeSource, UplinkRecord } from '../proto/bundle/types.js';
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { ChainLink } from './chain-verdicts.js';
import type { LinkStateStore } from './link-state.js';
import { PgLinkState } from './pg-link-state.js';
import { migrate } from './pg-migrations.js';
import type {
  ChainWindow,
  EvidenceQuery,
  GatewayChain,
  GatewayKeyRecord,
  PlotEvidence,
  RegionalAlert,
  RegionalStore,
  StoredBundle,
  StoredCommitment,
  StoredPeriodStatement,
} from './store.js';

export interface PgRegionalStoreOptions {
  /** postgres://user@host:port/db; the password comes from a file or PGPASSWORD, never the command line. */
  url: string;
  password?: string;
  /** Connections in the pool (default 8). */
  poolSize?: number;
  logger?: Logger;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

const hexToBytes = (s: string): Buffer => Buffer.from(s, 'hex');

/** A stable signed 64-bit advisory-lock key per gateway id. */
export function gatewayLockKey(gatewayId: string): string {
  return createHash('sha256')
    .update('maverick-gateway\u0000')
    .update(gatewayId)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

interface BundleRow {
  digest: Buffer;
  gateway_id: string;
  seq: string;
  prev_hash: Buffer;
  kid: Buffer;
  cose: Buffer;
  iat: string;
  sub: string;
  time_start: string;
  time_end: string;
  uplink_count: number;
  time_sources: Record<TimeSource, number>;
  plots: { plotId: string; geometryHash: string }[];
  /** NULL from migration 5 on: the summaries are read from `cose` (devicesOf). */
  devices: (Omit<DeviceSummary, 'devEui'> & { devEui: string })[] | null;
  received_at: string;
  source: string;
  disputed: boolean;
  overruled: boolean;
}

function toStored(r: BundleRow): StoredBundle {
  const stored: Omit<StoredBundle, 'devices'> = {
    gatewayId: r.gateway_id,
    seq: Number(r.seq),
    digest: r.digest.toString('hex'),
    prevHash: r.prev_hash.toString('hex'),
    kid: r.kid.toString('hex'),
    cose: new Uint8Array(r.cose),
    iat: Number(r.iat),
    sub: r.sub,
    timeStart: Number(r.time_start),
    timeEnd: Number(r.time_end),
    uplinkCount: r.uplink_count,
    timeSources: r.time_sources,
    plots: r.plots,
    receivedAt: Number(r.received_at),
    source: r.source,
    disputed: r.disputed,
    ...(r.overruled ? { overruled: true } : {}),
  };
  const json = r.devices;
  if (json)
    return {
      ...stored,
      devices: json.map((d) => ({ ...d, devEui: new Uint8Array(hexToBytes(d.devEui)) })),
    };
  // Decoded on first read only: the chain checks on the intake path never look at the summaries.
  let devices: DeviceSummary[] | undefined;
  return Object.defineProperty({ ...stored, devicesFromCose: true }, 'devices', {
    enumerable: true,
    get: () => {
      devices ??= devicesOf(r.cose);
      return devices;
    },
  }) as StoredBundle;
}

/** A stored bundle's device summaries, from its COSE bytes (verified on intake, canonical). */
function devicesOf(cose: Buffer): DeviceSummary[] {
  return decodeStoredBundle(new Uint8Array(cose)).devices;
}

type LinkRow = Pick<BundleRow, 'seq' | 'digest' | 'prev_hash' | 'disputed' | 'overruled'>;

function linkOf(r: LinkRow): ChainLink {
  return {
    seq: Number(r.seq),
    digest: r.digest.toString('hex'),
    prevHash: r.prev_hash.toString('hex'),
    disputed: r.disputed,
    ...(r.overruled ? { overruled: true } : {}),
  };
}

interface AlertRow {
  id: string;
  kind: RegionalAlert['kind'];
  gateway_id: string;
  seq: string;
  message: string;
  details: Record<string, unknown>;
  at: string;
  closed_at: string | null;
  closed_reason: string | null;
}

function toAlert(r: AlertRow): RegionalAlert {
  return {
    id: r.id,
    kind: r.kind,
    gatewayId: r.gateway_id,
    seq: Number(r.seq),
    message: r.message,
    details: r.details,
    at: Number(r.at),
    ...(r.closed_at === null ? {} : { closedAt: Number(r.closed_at) }),
    ...(r.closed_reason === null ? {} : { closedReason: r.closed_reason }),
  };
}

/** An uplink as kept in plot_evidence.uplinks (rows written before migration 3). */
interface UplinkJson {
  d: string;
  f: number;
  t: number;
  s: TimeSource;
  r: { field: string; scale: number; value: number }[];
}

export class PgRegionalStore implements RegionalStore {
  /** Satellite reassembly state (pg-link-state.ts). */
  readonly linkState: LinkStateStore;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {
    this.linkState = new PgLinkState(pool, log);
  }

  static async open(options: PgRegionalStoreOptions): Promise<PgRegionalStore> {
    const log = (options.logger ?? silentLogger).child({ component: 'regional-pg' });
    const pool = new pg.Pool({
      connectionString: options.url,
      ...(options.password === undefined ? {} : { password: options.password }),
      max: options.poolSize ?? 8,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection dropped by a server restart must not take the process down; the pool replaces it.
    pool.on('error', (err) =>
      log.warn({ err: describeError(err) }, 'PostgreSQL connection lost; reconnecting'),
    );
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end();
      throw new MaverickError(
        ErrorCode.RegionalStore,
        `cannot connect to PostgreSQL at ${redact(options.url)}: ${describeError(err)}`,
        { hint: 'check [store] url in the regional config and that the server is running', cause: err },
      );
    }
    try {
      const applied = await migrate(client);
      if (applied.length > 0) log.info({ applied }, 'schema migrations applied');
    } catch (err) {
      client.release();
      await pool.end();
      throw err;
    }
    client.release();
    return new PgRegionalStore(pool, log);
  }

  async putGatewayKey(record: GatewayKeyRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO gateway_keys (kid, gateway_id, public_key, label, added_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kid) DO UPDATE SET gateway_id = $2, public_key = $3, label = $4, added_at = $5`,
      [record.kid, record.gatewayId, Buffer.from(record.publicKey), record.label ?? null, record.addedAt],
    );
  }

  async removeGatewayKey(kid: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM gateway_keys WHERE kid = $1', [kid]);
    return (result.rowCount ?? 0) > 0;
  }

  async listGatewayKeys(): Promise<GatewayKeyRecord[]> {
    const { rows } = await this.pool.query<{
      kid: string;
      gateway_id: string;
      public_key: Buffer;
      label: string | null;
      added_at: string;
    }>('SELECT kid, gateway_id, public_key, label, added_at FROM gateway_keys ORDER BY gateway_id, added_at');
    return rows.map((r) => ({
      gatewayId: r.gateway_id,
      kid: r.kid,
      publicKey: new Uint8Array(r.public_key),
      ...(r.label === null ? {} : { label: r.label }),
      addedAt: Number(r.added_at),
    }));
  }

  async withGateway<T>(gatewayId: string, fn: (chain: GatewayChain) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client that loses its server (a PostgreSQL restart) emits 'error'; unheard, that
    // would end the process. The query in progress fails as well, and the item is retried.
    const onError = (err: Error) => {
      broken = true;
      this.log.warn(
        { gatewayId, err: describeError(err) },
        'PostgreSQL connection lost mid-item; it will be retried',
      );
    };
    client.on('error', onError);
    try {
      // One round trip: the key is a decimal integer computed here (gatewayLockKey), never text from outside.
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${gatewayLockKey(gatewayId)})`);
      const result = await fn(this.chainOf(client, gatewayId));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; do not return it to the pool
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private chainOf(client: pg.PoolClient, gatewayId: string): GatewayChain {
    return {
      around: async (seq, radius) => {
        // kind 0: a link in the window; -1 / 1: the nearest held seq below / above `seq`.
        const { rows } = await client.query<{
          kind: number;
          seq: string;
          digest: Buffer | null;
          prev_hash: Buffer | null;
          disputed: boolean | null;
          overruled: boolean | null;
        }>({
          name: 'around',
          text: `SELECT 0 AS kind, seq, digest, prev_hash, disputed, overruled FROM bundles
                   WHERE gateway_id = $1 AND seq BETWEEN $2 AND $3
                 UNION ALL (SELECT -1, seq, NULL, NULL, NULL, NULL FROM bundles
                   WHERE gateway_id = $1 AND seq < $4 ORDER BY seq DESC LIMIT 1)
                 UNION ALL (SELECT 1, seq, NULL, NULL, NULL, NULL FROM bundles
                   WHERE gateway_id = $1 AND seq > $4 ORDER BY seq ASC LIMIT 1)`,
          values: [gatewayId, Math.max(1, seq - radius), seq + radius, seq],
        });
        const window: ChainWindow = { links: [], below: 0, above: undefined };
        for (const r of rows) {
          if (r.kind === -1) window.below = Number(r.seq);
          else if (r.kind === 1) window.above = Number(r.seq);
          else window.links.push(linkOf(r as LinkRow));
        }
        return window;
      },
      linksInRange: async (from, to) => {
        const { rows } = await client.query<LinkRow>({
          name: 'links-in-range',
          text: 'SELECT seq, digest, prev_hash, disputed, overruled FROM bundles WHERE gateway_id = $1 AND seq BETWEEN $2 AND $3',
          values: [gatewayId, from, to],
        });
        return rows.map(linkOf);
      },
      neighbours: async (seq) => {
        const { rows } = await client.query<{ below: string | null; above: string | null }>({
          name: 'neighbours',
          text: `SELECT
            (SELECT seq FROM bundles WHERE gateway_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1) AS below,
            (SELECT seq FROM bundles WHERE gateway_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT 1) AS above`,
          values: [gatewayId, seq],
        });
        const row = rows[0];
        return {
          below: row?.below == null ? 0 : Number(row.below),
          above: row?.above == null ? undefined : Number(row.above),
        };
      },
      putBundle: (bundle, uplinks, definitions) => this.putBundle(client, bundle, uplinks, definitions),
      setDisputed: async (digest, disputed) => {
        const result = await client.query({
          name: 'set-disputed',
          text: 'UPDATE bundles SET disputed = $3 WHERE digest = $1 AND gateway_id = $2',
          values: [hexToBytes(digest), gatewayId, disputed],
        });
        if (result.rowCount !== 1)
          throw new MaverickError(ErrorCode.RegionalStore, `no bundle ${digest} of ${gatewayId} to mark`);
      },
      overrule: async (digest) => {
        const result = await client.query(
          'UPDATE bundles SET overruled = true, disputed = true WHERE digest = $1 AND gateway_id = $2',
          [hexToBytes(digest), gatewayId],
        );
        if (result.rowCount !== 1)
          throw new MaverickError(ErrorCode.RegionalStore, `no bundle ${digest} of ${gatewayId} to overrule`);
      },
      getAlert: (id) => this.getAlert(client, id),
      putAlert: (alert) => this.putAlertOn(client, alert),
    };
  }

  /** The values of a bundle's row, its plot evidence index rows and the plot definitions it carried. */
  private static bundleValues(
    b: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): { row: unknown[]; evidence: unknown[]; definitions: unknown[] } {
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
  private async putBundle(
    client: Queryable,
    b: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<void> {
    const values = PgRegionalStore.bundleValues(b, uplinks, definitions);
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

  /**
   * The in-order arrival in one round trip and one transaction (autocommit):
   * maverick_append_head (migration 3) takes the gateway's advisory lock, checks
   * the conditions RegionalStore.appendHead names, and inserts. Everything else
   * goes the full way through withGateway.
   */
  async appendHead(
    b: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<boolean> {
    if (b.disputed) return false;
    const values = PgRegionalStore.bundleValues(b, uplinks, definitions);
    const { rows } = await this.pool.query<{ stored: boolean }>({
      name: 'append-head',
      text: `SELECT maverick_append_head($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
               $17, $18::text[], $19::bigint[], $20::bigint[], $21::text[], $22::text[], $23::jsonb[]) AS stored`,
      values: [gatewayLockKey(b.gatewayId), ...values.row, ...values.evidence, ...values.definitions],
    });
    return rows[0]?.stored === true;
  }

  async bundlesAtSeq(gatewayId: string, seq: number): Promise<StoredBundle[]> {
    const { rows } = await this.pool.query<BundleRow>(
      'SELECT * FROM bundles WHERE gateway_id = $1 AND seq = $2 ORDER BY digest',
      [gatewayId, seq],
    );
    return rows.map(toStored);
  }

  async getBundleByDigest(digest: string): Promise<StoredBundle | undefined> {
    const { rows } = await this.pool.query<BundleRow>('SELECT * FROM bundles WHERE digest = $1', [
      hexToBytes(digest),
    ]);
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  async headSeq(gatewayId: string): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string | null }>(
      'SELECT max(seq) AS seq FROM bundles WHERE gateway_id = $1',
      [gatewayId],
    );
    return rows[0]?.seq == null ? 0 : Number(rows[0].seq);
  }

  async listBundles(gatewayId?: string): Promise<StoredBundle[]> {
    const { rows } =
      gatewayId === undefined
        ? await this.pool.query<BundleRow>('SELECT * FROM bundles ORDER BY gateway_id, seq, digest')
        : await this.pool.query<BundleRow>(
            'SELECT * FROM bundles WHERE gateway_id = $1 ORDER BY seq, digest',
            [gatewayId],
          );
    return rows.map(toStored);
  }

  async putCommitment(c: StoredCommitment): Promise<void> {
    await this.pool.query(
      `INSERT INTO commitments (gateway_id, day, seq_first, seq_last, digest, bundles, uplinks, cose, received_at, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (gateway_id, day) DO UPDATE SET seq_first = $3, seq_last = $4, digest = $5, bundles = $6,
         uplinks = $7, cose = $8, received_at = $9, source = $10`,
      [
        c.gatewayId,
        c.day,
        c.seqFirst,
        c.seqLast,
        c.digest,
        c.bundles,
        c.uplinks,
        Buffer.from(c.cose),
        c.receivedAt,
        c.source,
      ],
    );
  }

  async getCommitment(gatewayId: string, day: number): Promise<StoredCommitment | undefined> {
    const { rows } = await this.pool.query<{
      seq_first: string;
      seq_last: string;
      digest: string;
      bundles: number;
      uplinks: number;
      cose: Buffer;
      received_at: string;
      source: string;
    }>('SELECT * FROM commitments WHERE gateway_id = $1 AND day = $2', [gatewayId, day]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      gatewayId,
      day,
      seqFirst: Number(r.seq_first),
      seqLast: Number(r.seq_last),
      digest: r.digest,
      bundles: r.bundles,
      uplinks: r.uplinks,
      cose: new Uint8Array(r.cose),
      receivedAt: Number(r.received_at),
      source: r.source,
    };
  }

  async putPeriodStatement(s: StoredPeriodStatement): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO period_statements (digest, gateway_id, from_day, to_day, cose, received_at, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (digest) DO NOTHING`,
      [s.digest, s.gatewayId, s.fromDay, s.toDay, Buffer.from(s.cose), s.receivedAt, s.source],
    );
    return rowCount === 1;
  }

  async listPeriodStatements(gatewayId?: string): Promise<StoredPeriodStatement[]> {
    const { rows } = await this.pool.query<{
      digest: string;
      gateway_id: string;
      from_day: number;
      to_day: number;
      cose: Buffer;
      received_at: string;
      source: string;
    }>(
      `SELECT * FROM period_statements WHERE $1::text IS NULL OR gateway_id = $1
       ORDER BY gateway_id COLLATE "C", from_day, to_day, digest`,
      [gatewayId ?? null],
    );
    return rows.map((r) => ({
      gatewayId: r.gateway_id,
      fromDay: r.from_day,
      toDay: r.to_day,
      digest: r.digest,
      cose: new Uint8Array(r.cose),
      receivedAt: Number(r.received_at),
      source: r.source,
    }));
  }

  putAlert(alert: RegionalAlert): Promise<void> {
    return this.putAlertOn(this.pool, alert);
  }

  private async putAlertOn(client: Queryable, a: RegionalAlert): Promise<void> {
    await client.query({
      name: 'put-alert',
      text: `INSERT INTO alerts (id, kind, gateway_id, seq, message, details, at, closed_at, closed_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET kind = $2, gateway_id = $3, seq = $4, message = $5, details = $6,
               at = $7, closed_at = $8, closed_reason = $9`,
      values: [
        a.id,
        a.kind,
        a.gatewayId,
        a.seq,
        a.message,
        JSON.stringify(a.details),
        a.at,
        a.closedAt ?? null,
        a.closedReason ?? null,
      ],
    });
  }

  private async getAlert(client: Queryable, id: string): Promise<RegionalAlert | undefined> {
    const { rows } = await client.query<AlertRow>({
      name: 'get-alert',
      text: 'SELECT * FROM alerts WHERE id = $1',
      values: [id],
    });
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  async listAlerts(gatewayId?: string, options: { includeClosed?: boolean } = {}): Promise<RegionalAlert[]> {
    const { rows } = await this.pool.query<AlertRow>(
      `SELECT * FROM alerts WHERE ($1::text IS NULL OR gateway_id = $1) AND ($2 OR closed_at IS NULL)
       ORDER BY at, seq, id`,
      [gatewayId ?? null, options.includeClosed === true],
    );
    return rows.map(toAlert);
  }

  async getPlotDefinition(
    geometryHash: string,
  ): Promise<{ plotId: string; definition: PlotDefinition } | undefined> {
    const { rows } = await this.pool.query<{ plot_id: string; definition: PlotDefinition }>(
      'SELECT plot_id, definition FROM plot_definitions WHERE geometry_hash = $1',
      [geometryHash],
    );
    return rows[0] ? { plotId: rows[0].plot_id, definition: rows[0].definition } : undefined;
  }

  async evidenceForPlot(query: EvidenceQuery): Promise<PlotEvidence[]> {
    const { rows } = await this.pool.query<{
      bundle: Buffer;
      gateway_id: string;
      seq: string;
      uplinks: UplinkJson[] | null;
      cose: Buffer | null;
    }>(
      `SELECT e.bundle, e.gateway_id, e.seq, e.uplinks, CASE WHEN e.uplinks IS NULL THEN b.cose END AS cose
       FROM plot_evidence e JOIN bundles b ON b.digest = e.bundle
       WHERE e.plot_id = $1 AND e.first_at <= $3 AND e.last_at >= $2`,
      [query.plotId, query.from, query.to],
    );
    const out: PlotEvidence[] = [];
    for (const r of rows) {
      const uplinks = r.cose
        ? uplinksOfPlot(r.cose, query.plotId)
        : (r.uplinks ?? []).map((u) => uplinkOf(u, query.plotId));
      for (const uplink of uplinks) {
        if (uplink.receivedAt < query.from || uplink.receivedAt > query.to) continue;
        out.push({ gatewayId: r.gateway_id, seq: Number(r.seq), digest: r.bundle.toString('hex'), uplink });
      }
    }
    return out.sort((a, b) => a.uplink.receivedAt - b.uplink.receivedAt);
  }

  /** Bytes PostgreSQL uses for this database (tables, indexes, TOAST). */
  async databaseBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: string }>(
      'SELECT pg_database_size(current_database()) AS bytes',
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
    this.log.debug({}, 'PostgreSQL pool closed');
  }
}

/** An uplink as kept in plot_evidence.uplinks before migration 3. */
function uplinkOf(u: UplinkJson, plotId: string): UplinkRecord {
  return {
    devEui: new Uint8Array(hexToBytes(u.d)),
    plotId,
    fCnt: u.f,
    receivedAt: u.t,
    timeSource: u.s,
    readings: u.r,
  };
}

/** The uplinks of one plot from a stored bundle's COSE bytes (verified when it arrived). */
function uplinksOfPlot(cose: Buffer, plotId: string): UplinkRecord[] {
  return decodeStoredBundle(new Uint8Array(cose)).uplinks.filter((u) => u.plotId === plotId);
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
