/**
 * Versioned schema of the PostgreSQL regional store. Migrations run in order
 * on start, each in its own transaction, under an advisory lock so several
 * workers starting together migrate once. A database newer than this code is
 * refused rather than written to. Never edit a released migration: add one.
 *
 * Evidence is indexed per (bundle, plot) as one row with the time span of
 * that plot's uplinks, not one row per uplink: a bundle of a 50-device
 * farm-hour is a handful of rows, and an export reads the rows whose span
 * meets the period and takes the uplinks from the bundle's COSE bytes
 * (stored once, in bundles; before migration 3 the row held them as JSON).
 */
import type pg from 'pg';
import { ErrorCode, MaverickError } from '../proto/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'regional store: keys, bundles, plot evidence, commitments, alerts',
    sql: `
      CREATE TABLE gateway_keys (
        kid text PRIMARY KEY,
        gateway_id text NOT NULL,
        public_key bytea NOT NULL,
        label text,
        added_at bigint NOT NULL
      );
      CREATE TABLE bundles (
        digest bytea PRIMARY KEY,
        gateway_id text NOT NULL,
        seq bigint NOT NULL,
        prev_hash bytea NOT NULL,
        kid bytea NOT NULL,
        cose bytea NOT NULL,
        iat bigint NOT NULL,
        sub text NOT NULL,
        time_start bigint NOT NULL,
        time_end bigint NOT NULL,
        uplink_count integer NOT NULL,
        time_sources jsonb NOT NULL,
        plots jsonb NOT NULL,
        devices jsonb NOT NULL,
        received_at bigint NOT NULL,
        source text NOT NULL,
        disputed boolean NOT NULL DEFAULT false
      );
      CREATE INDEX bundles_by_gateway_seq ON bundles (gateway_id, seq);
      CREATE TABLE plot_evidence (
        bundle bytea NOT NULL REFERENCES bundles (digest),
        plot_id text NOT NULL,
        gateway_id text NOT NULL,
        seq bigint NOT NULL,
        first_at bigint NOT NULL,
        last_at bigint NOT NULL,
        uplinks jsonb NOT NULL,
        PRIMARY KEY (bundle, plot_id)
      );
      CREATE INDEX plot_evidence_by_plot_time ON plot_evidence (plot_id, first_at);
      CREATE TABLE plot_definitions (
        geometry_hash text PRIMARY KEY,
        plot_id text NOT NULL,
        definition jsonb NOT NULL
      );
      CREATE TABLE commitments (
        gateway_id text NOT NULL,
        day integer NOT NULL,
        seq_first bigint NOT NULL,
        seq_last bigint NOT NULL,
        digest text NOT NULL,
        bundles integer NOT NULL,
        uplinks integer NOT NULL,
        cose bytea NOT NULL,
        received_at bigint NOT NULL,
        source text NOT NULL,
        PRIMARY KEY (gateway_id, day)
      );
      CREATE TABLE alerts (
        id text PRIMARY KEY,
        kind text NOT NULL,
        gateway_id text NOT NULL,
        seq bigint NOT NULL,
        message text NOT NULL,
        details jsonb NOT NULL,
        at bigint NOT NULL,
        closed_at bigint,
        closed_reason text
      );
      CREATE INDEX alerts_by_gateway ON alerts (gateway_id, at);
    `,
  },
  {
    version: 2,
    name: 'operator rulings: bundles overruled out of their chain',
    sql: 'ALTER TABLE bundles ADD COLUMN overruled boolean NOT NULL DEFAULT false;',
  },
  {
    version: 3,
    name: 'plot evidence uplinks read from the stored COSE bytes; in-order appends in one statement',
    // Rows written before keep their uplinks (JSON); new rows leave it NULL and do not store them twice.
    // maverick_append_head: PgRegionalStore.appendHead (see there for when it stores and why that is safe).
    sql: `
      ALTER TABLE plot_evidence ALTER COLUMN uplinks DROP NOT NULL;
      CREATE FUNCTION maverick_append_head(
        lock_key bigint, p_digest bytea, p_gateway text, p_seq bigint, p_prev bytea, p_kid bytea,
        p_cose bytea, p_iat bigint, p_sub text, p_time_start bigint, p_time_end bigint,
        p_uplink_count integer, p_time_sources jsonb, p_plots jsonb, p_devices jsonb,
        p_received_at bigint, p_source text, e_plot text[], e_first bigint[], e_last bigint[],
        d_hash text[], d_plot text[], d_definition jsonb[]
      ) RETURNS boolean LANGUAGE plpgsql AS $fn$
      DECLARE
        genesis CONSTANT bytea := decode(repeat('00', 32), 'hex');
        held integer;
        pred record;
      BEGIN
        -- Volatile: every statement below reads with a snapshot taken after the lock is held.
        PERFORM pg_advisory_xact_lock(lock_key);
        IF EXISTS (SELECT 1 FROM bundles WHERE gateway_id = p_gateway AND seq >= p_seq)
           OR EXISTS (SELECT 1 FROM bundles WHERE digest = p_digest) THEN
          RETURN false;
        END IF;
        IF p_seq = 1 THEN
          IF p_prev <> genesis THEN RETURN false; END IF;
        ELSE
          SELECT count(*) INTO held FROM bundles WHERE gateway_id = p_gateway AND seq = p_seq - 1;
          IF held <> 1 THEN RETURN false; END IF;
          SELECT digest, prev_hash, disputed, overruled INTO pred
            FROM bundles WHERE gateway_id = p_gateway AND seq = p_seq - 1;
          IF pred.digest <> p_prev OR pred.disputed OR pred.overruled THEN RETURN false; END IF;
          IF p_seq = 2 THEN
            IF pred.prev_hash <> genesis THEN RETURN false; END IF;
          ELSIF EXISTS (SELECT 1 FROM bundles WHERE gateway_id = p_gateway AND seq = p_seq - 2 AND overruled)
             OR (EXISTS (SELECT 1 FROM bundles WHERE gateway_id = p_gateway AND seq = p_seq - 2)
                 AND NOT EXISTS (SELECT 1 FROM bundles
                   WHERE gateway_id = p_gateway AND seq = p_seq - 2 AND digest = pred.prev_hash)) THEN
            RETURN false;
          END IF;
        END IF;
        INSERT INTO bundles (digest, gateway_id, seq, prev_hash, kid, cose, iat, sub, time_start, time_end,
          uplink_count, time_sources, plots, devices, received_at, source, disputed)
        VALUES (p_digest, p_gateway, p_seq, p_prev, p_kid, p_cose, p_iat, p_sub, p_time_start, p_time_end,
          p_uplink_count, p_time_sources, p_plots, p_devices, p_received_at, p_source, false);
        INSERT INTO plot_evidence (bundle, plot_id, gateway_id, seq, first_at, last_at)
          SELECT p_digest, x.p, p_gateway, p_seq, x.f, x.l FROM unnest(e_plot, e_first, e_last) AS x(p, f, l);
        INSERT INTO plot_definitions (geometry_hash, plot_id, definition)
          SELECT * FROM unnest(d_hash, d_plot, d_definition) ON CONFLICT (geometry_hash) DO NOTHING;
        RETURN true;
      END
      $fn$;
    `,
  },
  {
    version: 4,
    name: 'satellite reassembly state: partial messages, their fragments, settled item ids',
    sql: `
      CREATE TABLE link_partials (
        sender text NOT NULL,
        item_id bytea NOT NULL,
        kind text NOT NULL,
        count integer NOT NULL,
        received integer NOT NULL,
        bytes integer NOT NULL,
        bitmap bytea NOT NULL,
        started_at bigint NOT NULL,
        touched_at bigint NOT NULL,
        PRIMARY KEY (sender, item_id)
      );
      CREATE INDEX link_partials_by_item ON link_partials (item_id);
      CREATE TABLE link_fragments (
        sender text NOT NULL,
        item_id bytea NOT NULL,
        idx integer NOT NULL,
        payload bytea NOT NULL,
        PRIMARY KEY (sender, item_id, idx),
        FOREIGN KEY (sender, item_id) REFERENCES link_partials (sender, item_id) ON DELETE CASCADE
      );
      CREATE TABLE link_settled (
        item_id bytea PRIMARY KEY,
        status text NOT NULL,
        settled_at bigint NOT NULL
      );
      CREATE INDEX link_settled_by_time ON link_settled (settled_at);
    `,
  },
  {
    version: 5,
    name: 'device summaries read from the stored COSE bytes',
    // Rows written before keep their JSON; new rows leave it NULL (the signed payload holds them).
    sql: 'ALTER TABLE bundles ALTER COLUMN devices DROP NOT NULL;',
  },
  {
    version: 6,
    name: 'period statements the gateways sent, held once by digest',
    sql: `
      CREATE TABLE period_statements (
        digest text PRIMARY KEY,
        gateway_id text NOT NULL,
        from_day integer NOT NULL,
        to_day integer NOT NULL,
        cose bytea NOT NULL,
        received_at bigint NOT NULL,
        source text NOT NULL
      );
      CREATE INDEX period_statements_by_gateway ON period_statements (gateway_id, from_day, to_day);
    `,
  },
  {
    version: 7,
    name: 'in-order appends of many gateways in one statement',
    // maverick_append_heads: HeadAppender (pg-append.ts). Element i of every array is append i; the
    // evidence and definition rows name their append by its 1-based index (e_item, d_item).
    sql: `
      CREATE FUNCTION maverick_append_heads(
        lock_keys bigint[], p_digest bytea[], p_gateway text[], p_seq bigint[], p_prev bytea[], p_kid bytea[],
        p_cose bytea[], p_iat bigint[], p_sub text[], p_time_start bigint[], p_time_end bigint[],
        p_uplink_count integer[], p_time_sources jsonb[], p_plots jsonb[], p_devices jsonb[],
        p_received_at bigint[], p_source text[], e_item integer[], e_plot text[], e_first bigint[],
        e_last bigint[], d_item integer[], d_hash text[], d_plot text[], d_definition jsonb[]
      ) RETURNS boolean[] LANGUAGE plpgsql AS $fn$
      DECLARE
        stored boolean[] := '{}';
      BEGIN
        FOR i IN 1 .. coalesce(array_length(p_digest, 1), 0) LOOP
          stored := stored || maverick_append_head(lock_keys[i], p_digest[i], p_gateway[i], p_seq[i], p_prev[i],
            p_kid[i], p_cose[i], p_iat[i], p_sub[i], p_time_start[i], p_time_end[i], p_uplink_count[i],
            p_time_sources[i], p_plots[i], p_devices[i], p_received_at[i], p_source[i],
            ARRAY(SELECT e_plot[j] FROM generate_subscripts(e_item, 1) AS j WHERE e_item[j] = i ORDER BY j),
            ARRAY(SELECT e_first[j] FROM generate_subscripts(e_item, 1) AS j WHERE e_item[j] = i ORDER BY j),
            ARRAY(SELECT e_last[j] FROM generate_subscripts(e_item, 1) AS j WHERE e_item[j] = i ORDER BY j),
            ARRAY(SELECT d_hash[j] FROM generate_subscripts(d_item, 1) AS j WHERE d_item[j] = i ORDER BY j),
            ARRAY(SELECT d_plot[j] FROM generate_subscripts(d_item, 1) AS j WHERE d_item[j] = i ORDER BY j),
            ARRAY(SELECT d_definition[j] FROM generate_subscripts(d_item, 1) AS j WHERE d_item[j] = i ORDER BY j));
        END LOOP;
        RETURN stored;
      END
      $fn$;
    `,
  },
  {
    version: 8,
    name: 'removed gateway keys are kept (what they signed stays verifiable)',
    sql: 'ALTER TABLE gateway_keys ADD COLUMN removed_at bigint',
  },
];

/** Same 64-bit key for every worker: the migration lock. */
const MIGRATION_LOCK = '7236896219650535437';

export async function migrate(
  client: pg.PoolClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const applied: number[] = [];
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS maverick_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::int AS version FROM maverick_schema_migrations',
    );
    const current = rows[0]?.version ?? 0;
    const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > known) {
      throw new MaverickError(
        ErrorCode.RegionalStore,
        `the regional database is at schema version ${current}, newer than this maverick knows (${known})`,
        { hint: 'upgrade maverick on every worker before starting it against this database' },
      );
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO maverick_schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MaverickError(ErrorCode.RegionalStore, `schema migration ${m.version} (${m.name}) failed`, {
          cause: err,
        });
      }
      applied.push(m.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
  return applied;
}
