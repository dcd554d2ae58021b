/**
 * `maverick regional evidence --plot … --from … --to … --out PACK`: the evidence pack of one
 * plot (proto/evidence/EVIDENCE.md), built from the gateway-signed period statements and the
 * bundles this node holds, signed with the node's own key; with --nonce, the answer to a
 * verifier's spot check. The statements are the ones the gateways sent over the link that lie
 * inside the days (regional/period-statements.ts); `--statement FILE…` cites those files
 * instead. Writes PACK and PACK.md (the report of verifying it).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { fromHex } from '../../proto/evidence/hash.js';
import { reportMarkdown } from '../../proto/evidence/report.js';
import { MAX_NONCE_BYTES, MIN_NONCE_BYTES } from '../../proto/evidence/sampling.js';
import { verifyPack } from '../../proto/evidence/verify.js';
import { buildEvidencePack } from '../../regional/evidence.js';
import { heldPeriod, keyRegistrations, plotDefinitionOf } from '../../regional/evidence-store.js';
import { geoJsonText, plotGeoJson } from '../../regional/export-geojson.js';
import { statementsWithin } from '../../regional/period-statements.js';
import { loadRegionalKey, REGIONAL_ISSUER } from '../../regional/serve.js';
import { parseDateFlag } from '../format/dates.js';
import { regionalOptions, type StoreFlags, withRegional } from './regional.js';

const DAY_MS = 86_400_000;

interface EvidenceFlags extends StoreFlags {
  plot: string;
  from: string;
  to: string;
  statement?: string[];
  out: string;
  nonce?: string;
  records: string;
  geojson: boolean;
}

function parseNonce(text: string): Uint8Array {
  const bytes = /^(?:[0-9a-fA-F]{2})+$/.test(text) ? fromHex(text) : undefined;
  if (!bytes || bytes.length < MIN_NONCE_BYTES || bytes.length > MAX_NONCE_BYTES) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      `--nonce must be ${MIN_NONCE_BYTES}-${MAX_NONCE_BYTES} bytes of hex`,
      {
        hint: 'the verifier draws it at random, e.g. `openssl rand -hex 32`',
      },
    );
  }
  return bytes;
}

export function registerRegionalEvidence(regional: Command): void {
  regional
    .command('evidence')
    .description(
      "a plot's evidence pack: signed claims bound to the gateways' period statements, optionally a spot check",
    )
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .requiredOption('--plot <id>', 'plot id')
    .requiredOption('--from <day>', 'first UTC day (YYYY-MM-DD)')
    .requiredOption('--to <day>', 'last UTC day, inclusive (YYYY-MM-DD)')
    .option(
      '--statement <file...>',
      'cite these period statements (`maverick bundle statement`) instead of the ones the gateways sent',
    )
    .requiredOption('--out <file>', 'the pack (deterministic CBOR); the report goes to FILE.md')
    .option('--nonce <hex>', "the verifier's spot-check nonce (16-64 bytes of hex)")
    .option('--records <k>', 'records a spot check discloses', '20')
    .option('--no-geojson', 'leave the EUDR GeoJSON out (smallest pack, e.g. for a satellite link)')
    .action(async (flags: EvidenceFlags) => {
      const fromDay = Math.floor(parseDateFlag(flags.from, '--from', 'start') / DAY_MS);
      const toDay = Math.floor(parseDateFlag(flags.to, '--to', 'end') / DAY_MS);
      const k = Number(flags.records);
      if (!Number.isSafeInteger(k) || k < 1 || k > 1000)
        throw new MaverickError(ErrorCode.CliUsage, '--records must be 1..1000');
      const nonce = flags.nonce === undefined ? undefined : parseNonce(flags.nonce);
      const { dataDir } = regionalOptions(flags);
      const key = await loadRegionalKey(dataDir);
      await withRegional(flags, async ({ store, registry }) => {
        const statements = flags.statement
          ? flags.statement.map((file) => new Uint8Array(readFileSync(file)))
          : (await statementsWithin(store, fromDay, toDay)).map((s) => s.cose);
        if (statements.length === 0) {
          throw new MaverickError(
            ErrorCode.CliUsage,
            `this node holds no period statement inside ${flags.from}..${flags.to}`,
            {
              hint: 'gateways send each closed month once it is sealed; pick days covering whole months, or sign a range on the gateway (`maverick bundle statement`) and pass it with --statement',
            },
          );
        }
        const periods = [];
        for (const bytes of statements) periods.push(await heldPeriod(store, registry, bytes));
        const gatewayIds = [...new Set(periods.map((p) => p.gatewayId))];
        const definition = await plotDefinitionOf(store, flags.plot, gatewayIds);
        const built = buildEvidencePack({
          plotId: flags.plot,
          fromDay,
          toDay,
          definition,
          periods,
          keys: keyRegistrations(registry, gatewayIds, {
            issuer: REGIONAL_ISSUER,
            publicKey: key.publicKey,
            since: Math.floor(statSync(key.publicKeyFile).mtimeMs),
          }),
          signer: { key: { kid: key.kid, secretKey: key.secretKey }, issuer: REGIONAL_ISSUER },
          geojson: flags.geojson ? geoJsonText(plotGeoJson(flags.plot, definition)) : null,
          ...(nonce ? { spotCheck: { nonce, k } } : {}),
        });
        writeFileSync(flags.out, built.bytes);
        const verified = verifyPack(built.bytes, { regionalKey: key.publicKey });
        writeFileSync(`${flags.out}.md`, reportMarkdown(verified));
        process.stdout.write(
          `evidence pack ${flags.out}: ${built.bytes.length} bytes (${Math.ceil(built.bytes.length / 340)} satellite messages), plot ${flags.plot}, ${built.observations} observations of ${built.committedLeaves} committed records, ${verified.records.length} disclosed; ${verified.ok ? 'verifies' : 'DOES NOT VERIFY'}\n`,
        );
        if (!verified.ok) process.exitCode = 1;
      });
    });
}
