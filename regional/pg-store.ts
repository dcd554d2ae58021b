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
import type { DeviceSummary, PlotDefinition, TimeSource, UplinkRecord } from '../proto/bundle/types.js';
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { ChainLink } from './chain-verdicts.js';
import type { LinkStateStore } from './link-state.js';
import { PgLinkState } from './pg-link-state.js';
import { migrate } from './pg-migrations.js';
import type {
  EvidenceQuery,
  GatewayChain,
  GatewayKeyRecord,
  PlotEvidence,
  RegionalAlert,
  RegionalStore,
  StoredBundle,
  StoredCommitment,
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
  devices: (Omit<DeviceSummary, 'devEui'> & { devEui: string })[];
  received_at: string;
  source: string;
  disputed: boolean;
  overruled: boolean;
}

function toStored(r: BundleRow): StoredBundle {
  return {
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
    devices: r.devices.map((d) => ({ ...d, devEui: new Uint8Array(hexToBytes(d.devEui)) })),
    receivedAt: Number(r.received_at),
    source: r.source,
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

/** An uplink as kept in plot_evidence.uplinks. */
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
      await client.query('BEGIN');
      await client.query({
        name: 'lock-gateway',
        text: 'SELECT pg_advisory_xact_lock($1)',
        values: [gatewayLockKey(gatewayId)],
      });
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
      linksInRange: async (from, to) => {
        const { rows } = await client.query<{
          seq: string;
          digest: Buffer;
          prev_hash: Buffer;
          disputed: boolean;
          overruled: boolean;
        }>({
          name: 'links-in-range',
          text: 'SELECT seq, digest, prev_hash, disputed, overruled FROM bundles WHERE gateway_id = $1 AND seq BETWEEN $2 AND $3',
          values: [gatewayId, from, to],
        });
        return rows.map(
          (r): ChainLink => ({
            seq: Number(r.seq),
            digest: r.digest.toString('hex'),
            prevHash: r.prev_hash.toString('hex'),
            disputed: r.disputed,
            ...(r.overruled ? { overruled: true } : {}),
          }),
        );
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

  private async putBundle(
    client: Queryable,
    b: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<void> {
    const digest = hexToBytes(b.digest);
    await client.query({
      name: 'insert-bundle',
      text: `INSERT INTO bundles (digest, gateway_id, seq, prev_hash, kid, cose, iat, sub, time_start, time_end,
               uplink_count, time_sources, plots, devices, received_at, source, disputed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (digest) DO NOTHING`,
      values: [
        digest,
        b.gatewayId,
        b.seq,
        hexToBytes(b.prevHash),
        hexToBytes(b.kid),
        Buffer.from(b.cose),
        b.iat,
        b.sub,
        b.timeStart,
        b.timeEnd,
        b.uplinkCount,
        JSON.stringify(b.timeSources),
        JSON.stringify(b.plots),
        JSON.stringify(b.devices.map((d) => ({ ...d, devEui: Buffer.from(d.devEui).toString('hex') }))),
        b.receivedAt,
        b.source,
        b.disputed,
      ],
    });
    const byPlot = new Map<string, UplinkRecord[]>();
    for (const u of uplinks) {
      if (u.plotId === null) continue;
      const list = byPlot.get(u.plotId);
      if (list) list.push(u);
      else byPlot.set(u.plotId, [u]);
    }
    if (byPlot.size > 0) {
      const plots = [...byPlot];
      await client.query({
        name: 'insert-plot-evidence',
        text: `INSERT INTO plot_evidence (bundle, plot_id, gateway_id, seq, first_at, last_at, uplinks)
               SELECT $1, p, $2, $3, f, l, u::jsonb FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::text[]) AS x(p, f, l, u)
               ON CONFLICT DO NOTHING`,
        values: [
          digest,
          b.gatewayId,
          b.seq,
          plots.map(([plotId]) => plotId),
          plots.map(([, us]) => Math.min(...us.map((u) => u.receivedAt))),
          plots.map(([, us]) => Math.max(...us.map((u) => u.receivedAt))),
          plots.map(([, us]) => JSON.stringify(us.map(uplinkJson))),
        ],
      });
    }
    for (const d of definitions) {
      await client.query(
        `INSERT INTO plot_definitions (geometry_hash, plot_id, definition) VALUES ($1, $2, $3)
         ON CONFLICT (geometry_hash) DO NOTHING`,
        [d.geometryHash, d.plotId, JSON.stringify(d.definition)],
      );
    }
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
      uplinks: UplinkJson[];
    }>(
      `SELECT bundle, gateway_id, seq, uplinks FROM plot_evidence
       WHERE plot_id = $1 AND first_at <= $3 AND last_at >= $2`,
      [query.plotId, query.from, query.to],
    );
    const out: PlotEvidence[] = [];
    for (const r of rows) {
      for (const u of r.uplinks) {
        if (u.t < query.from || u.t > query.to) continue;
        out.push({
          gatewayId: r.gateway_id,
          seq: Number(r.seq),
          digest: r.bundle.toString('hex'),
          uplink: {
            devEui: new Uint8Array(hexToBytes(u.d)),
            plotId: query.plotId,
            fCnt: u.f,
            receivedAt: u.t,
            timeSource: u.s,
            readings: u.r,
          },
        });
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

function uplinkJson(u: UplinkRecord): UplinkJson {
  return {
    d: Buffer.from(u.devEui).toString('hex'),
    f: u.fCnt,
    t: u.receivedAt,
    s: u.timeSource,
    r: u.readings.map((r) => ({ field: r.field, scale: r.scale, value: r.value })),
  };
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
