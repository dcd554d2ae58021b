/**
 * The demo's last step: the gateway signed a period statement over the days it sealed (the day
 * is over, so they are closed) and sent it with its outbox; the regional node builds the
 * evidence pack for one plot from the statements it holds and the bundles, answering a random
 * 20-record spot check, and the offline verifier checks the pack with the published keys alone.
 */
import { randomBytes } from 'node:crypto';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { verifyPack } from '../../proto/evidence/verify.js';
import { buildEvidencePack } from '../../regional/evidence.js';
import { heldPeriod, keyRegistrations, plotDefinitionOf } from '../../regional/evidence-store.js';
import { geoJsonText, plotGeoJson } from '../../regional/export-geojson.js';
import type { OpenedRegional } from '../../regional/open-node.js';
import { statementsWithin } from '../../regional/period-statements.js';
import { REGIONAL_ISSUER } from '../../regional/serve.js';

const DAY_MS = 86_400_000;
export const SATELLITE_MESSAGE_BYTES = 340;

export interface DemoEvidence {
  plotId: string;
  days: string;
  bytes: number;
  observations: number;
  committedRecords: number;
  disclosed: number;
  checks: number;
  failed: string[];
  valid: boolean;
}

/** The summary of a pack that could not be built: the reason is the one failed check. */
export function evidenceFailure(plotId: string, err: unknown): DemoEvidence {
  const reason = err instanceof Error ? err.message : String(err);
  return {
    plotId,
    days: '',
    bytes: 0,
    observations: 0,
    committedRecords: 0,
    disclosed: 0,
    checks: 0,
    failed: [`build: ${reason}`],
    valid: false,
  };
}

/** One line for the demo summary. */
export function evidenceLine(e: DemoEvidence): string {
  if (!e.valid) return `plot ${e.plotId}: INVALID (${e.failed.join('; ')})`;
  return `plot ${e.plotId} ${e.days}: ${e.bytes} B (${Math.ceil(e.bytes / SATELLITE_MESSAGE_BYTES)} satellite messages), ${e.observations} of ${e.committedRecords} committed records, ${e.disclosed} drawn by a random nonce, ${e.checks} checks verified offline`;
}

export async function demoEvidence(options: {
  db: FarmDatabase;
  regional: OpenedRegional;
  regionalKey: { kid: Uint8Array; publicKey: Uint8Array; secretKey: Uint8Array };
  plotId: string;
}): Promise<DemoEvidence> {
  const { db, regional, plotId } = options;
  const ends = (await db.bundles.find({ selector: { kind: 'bundle' } }).exec()).map((d) => d.toMs as number);
  const fromDay = Math.floor(Math.min(...ends) / DAY_MS);
  const toDay = Math.floor(Math.max(...ends) / DAY_MS);
  // The statements the gateway sent over its link, as `maverick regional evidence` cites them.
  const held = await statementsWithin(regional.store, fromDay, toDay);
  if (held.length === 0)
    throw new MaverickError(
      ErrorCode.DemoFailed,
      "the regional node holds no period statement inside the demo's days",
      { hint: 'the gateway did not sync its statement: look for link or rejection warnings above' },
    );
  const periods = [];
  for (const s of held) periods.push(await heldPeriod(regional.store, regional.registry, s.cose));
  const gatewayIds = [...new Set(periods.map((p) => p.gatewayId))];
  const definition = await plotDefinitionOf(regional.store, plotId, gatewayIds);
  const built = buildEvidencePack({
    plotId,
    fromDay,
    toDay,
    definition,
    periods,
    keys: keyRegistrations(regional.registry, gatewayIds, {
      issuer: REGIONAL_ISSUER,
      publicKey: options.regionalKey.publicKey,
      since: Date.now(),
    }),
    signer: { key: options.regionalKey, issuer: REGIONAL_ISSUER },
    geojson: geoJsonText(plotGeoJson(plotId, definition)),
    spotCheck: { nonce: new Uint8Array(randomBytes(32)), k: 20 },
  });
  const v = verifyPack(built.bytes, { regionalKey: options.regionalKey.publicKey });
  const day = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);
  return {
    plotId,
    days: fromDay === toDay ? day(fromDay) : `${day(fromDay)}..${day(toDay)}`,
    bytes: built.bytes.length,
    observations: built.observations,
    committedRecords: built.committedLeaves,
    disclosed: v.records.length,
    checks: v.checks.length,
    failed: v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
    valid: v.ok,
  };
}
