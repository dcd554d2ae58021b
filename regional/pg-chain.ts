/**
 * One gateway's chain on PostgreSQL (GatewayChain, store.ts) over the
 * connection of the transaction `PgRegionalStore.withGateway` holds under the
 * gateway's advisory lock; named statements are prepared once per connection.
 */
import type pg from 'pg';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { insertBundle } from './pg-append.js';
import { type AlertRow, hexToBytes, type LinkRow, linkOf, toAlert } from './pg-rows.js';
import type { ChainWindow, GatewayChain, RegionalAlert } from './store.js';

export type Queryable = Pick<pg.PoolClient, 'query'>;

export function pgGatewayChain(client: Queryable, gatewayId: string): GatewayChain {
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
    putBundle: (bundle, uplinks, definitions) => insertBundle(client, bundle, uplinks, definitions),
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
    getAlert: (id) => getAlertOn(client, id),
    putAlert: (alert) => putAlertOn(client, alert),
  };
}

/** Stores an alert, replacing the one with its id. */
export async function putAlertOn(client: Queryable, a: RegionalAlert): Promise<void> {
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

export async function getAlertOn(client: Queryable, id: string): Promise<RegionalAlert | undefined> {
  const { rows } = await client.query<AlertRow>({
    name: 'get-alert',
    text: 'SELECT * FROM alerts WHERE id = $1',
    values: [id],
  });
  return rows[0] ? toAlert(rows[0]) : undefined;
}
