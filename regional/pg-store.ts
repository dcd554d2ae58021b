/**
 * RegionalStore on PostgreSQL (client `pg`), for a region served by several
 * stateless workers. Schema and migrations: pg-migrations.ts.
 *
 * `withGateway` is one transaction that first takes a transaction-scoped
 * advisory lock keyed by the gateway id, so chain work for one gateway is
 * serialised across every worker and connection while different gateways
 * proceed in parallel; a throw rolls the whole item back, so nothing of an
 * item is visible unless all of it committed. Hot statements are named
 * (prepared once per connection). A gateway's chain inside that transaction:
 * pg-chain.ts; bundle rows and the batched one-step append: pg-append.ts; row
 * mapping: pg-rows.ts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { LinkStateStore } from './link-state.js';
import { bundleValues, HeadAppender, type PlotDefinitionRow } from './pg-append.js';
import { pgGatewayChain, putAlertOn } from './pg-chain.js';
import { PgLinkState } from './pg-link-state.js';
import { migrate } from './pg-migrations.js';
import {
  type AlertRow,
  type BundleRow,
  hexToBytes,
  toAlert,
  toStored,
  type UplinkJson,
  uplinkOf,
  uplinksOfPlot,
} from './pg-rows.js';
import type {
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

/** A stable signed 64-bit advisory-lock key per gateway id. */
export function gatewayLockKey(gatewayId: string): string {
  return createHash('sha256')
    .update('maverick-gateway\u0000')
    .update(gatewayId)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

export class PgRegionalStore implements RegionalStore {
  /** Satellite reassembly state (pg-link-state.ts). */
  readonly linkState: LinkStateStore;
  private readonly heads: HeadAppender;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {
    this.linkState = new PgLinkState(pool, log);
    this.heads = new HeadAppender(pool);
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
      `INSERT INTO gateway_keys (kid, gateway_id, public_key, label, added_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (kid) DO UPDATE SET gateway_id = $2, public_key = $3, label = $4, added_at = $5, removed_at = $6`,
      [
        record.kid,
        record.gatewayId,
        Buffer.from(record.publicKey),
        record.label ?? null,
        record.addedAt,
        record.removedAt ?? null,
      ],
    );
  }

  async removeGatewayKey(kid: string, at: number): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE gateway_keys SET removed_at = $2 WHERE kid = $1 AND removed_at IS NULL',
      [kid, at],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async listGatewayKeys(): Promise<GatewayKeyRecord[]> {
    const { rows } = await this.pool.query<{
      kid: string;
      gateway_id: string;
      public_key: Buffer;
      label: string | null;
      added_at: string;
      removed_at: string | null;
    }>(
      'SELECT kid, gateway_id, public_key, label, added_at, removed_at FROM gateway_keys ORDER BY gateway_id, added_at',
    );
    return rows.map((r) => ({
      gatewayId: r.gateway_id,
      kid: r.kid,
      publicKey: new Uint8Array(r.public_key),
      ...(r.label === null ? {} : { label: r.label }),
      addedAt: Number(r.added_at),
      ...(r.removed_at === null ? {} : { removedAt: Number(r.removed_at) }),
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
      const result = await fn(pgGatewayChain(client, gatewayId));
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

  /**
   * The in-order arrival in one step: maverick_append_head (migration 3) takes
   * the gateway's advisory lock, checks the conditions RegionalStore.appendHead
   * names, and inserts; the appends of one turn share a statement and a commit
   * (HeadAppender, pg-append.ts). Everything else goes the full way through
   * withGateway.
   */
  async appendHead(
    b: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: PlotDefinitionRow[],
  ): Promise<boolean> {
    if (b.disputed) return false;
    return this.heads.append(gatewayLockKey(b.gatewayId), bundleValues(b, uplinks, definitions));
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
    return putAlertOn(this.pool, alert);
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
