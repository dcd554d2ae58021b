/**
 * The proof side of `maverick bundle` (proto/proof/PROOF.md): `bundle verify` of daily
 * commitments, period statements, receipts and format 3 statement forms, and
 * `bundle statement`, which signs a period statement for a closed range of days.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../gateway/config/index.js';
import { createPeriodStatements } from '../../gateway/sealing.js';
import { openGatewayDatabase } from '../../gateway/store-access.js';
import { BUNDLE_CONTENT_TYPE, verifyBundleStatement } from '../../proto/bundle/bundle.js';
import { decodeCbor } from '../../proto/bundle/cbor-decode.js';
import { COMMITMENT_CONTENT_TYPE, verifyCommitment } from '../../proto/bundle/commitment.js';
import { COSE_SIGN1_TAG, HeaderLabel, type KeyResolver } from '../../proto/bundle/cose.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { PERIOD_CONTENT_TYPE } from '../../proto/proof/labels.js';
import { verifyPeriodStatement } from '../../proto/proof/period.js';
import { verifyReceipt } from '../../proto/proof/receipt.js';

const DAY_MS = 86_400_000;
const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The kind of a signed Maverick object: its protected content type, and whether the payload is detached. */
export function signedKind(cose: Uint8Array): {
  contentType: string;
  detached: boolean;
  unprotected: number;
} {
  const parts = decodeCbor(cose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 6 });
  if (!Array.isArray(parts) || parts.length !== 4 || !(parts[0] instanceof Uint8Array)) {
    throw new MaverickError(ErrorCode.BundleMalformed, 'not a COSE_Sign1 (tag 18, array of 4)');
  }
  const header = decodeCbor(parts[0], { maxDepth: 3 });
  const contentType = header instanceof Map ? header.get(HeaderLabel.contentType) : undefined;
  if (typeof contentType !== 'string')
    throw new MaverickError(ErrorCode.BundleMalformed, 'no content type (3)');
  const unprotected = parts[1] instanceof Map ? parts[1].size : 0;
  return { contentType, detached: parts[2] === null, unprotected };
}

/** A summary of a verified object that is not a full bundle, or undefined for a full bundle. */
export function verifyProofObject(
  cose: Uint8Array,
  resolve: KeyResolver,
  leafFiles: readonly string[],
): Record<string, unknown> | undefined {
  const kind = signedKind(cose);
  if (kind.contentType === COMMITMENT_CONTENT_TYPE) {
    const { envelope, commitment: c } = verifyCommitment(cose, resolve);
    return {
      valid: true,
      kind: 'commitment',
      version: c.dayRoot ? 2 : 1,
      gateway: envelope.claims.iss,
      day: isoDay(c.day),
      seq: [c.seqFirst, c.seqLast],
      bundles: c.bundles,
      uplinks: c.uplinks,
      digest: toHex(c.digest),
      ...(c.dayRoot ? { leaves: c.leaves, dayRoot: toHex(c.dayRoot) } : {}),
    };
  }
  if (kind.contentType === PERIOD_CONTENT_TYPE && kind.detached) {
    const leaves = leafFiles.map((f) => new Uint8Array(readFileSync(f)));
    const v = verifyReceipt(cose, leaves, resolve);
    return {
      valid: true,
      kind: 'receipt',
      gateway: v.header.claims.iss,
      period: [isoDay(v.statement.fromDay), isoDay(v.statement.toDay)],
      leaves: v.statement.leaves,
      root: toHex(v.statement.root),
      proven: v.proofs.map((p) => p.leafIndex),
    };
  }
  if (kind.contentType === PERIOD_CONTENT_TYPE) {
    const v = verifyPeriodStatement(cose, resolve);
    return {
      valid: true,
      kind: 'period',
      gateway: v.claims.iss,
      period: [isoDay(v.statement.fromDay), isoDay(v.statement.toDay)],
      leaves: v.statement.leaves,
      days: v.statement.days,
      root: toHex(v.statement.root),
      daysRoot: toHex(v.statement.daysRoot),
    };
  }
  if (kind.contentType === BUNDLE_CONTENT_TYPE && kind.unprotected === 0) {
    const v = verifyBundleStatement(cose, resolve);
    if (v.withTelemetry) return undefined; // a format 1/2 bundle: the full bundle report
    const s = v.statement;
    return {
      valid: true,
      kind: 'bundle statement',
      version: s.version,
      gateway: v.envelope.claims.iss,
      seq: s.seq,
      digest: toHex(v.digest),
      prevHash: toHex(s.prevHash),
      timeRange: {
        start: new Date(s.timeRange.start).toISOString(),
        end: new Date(s.timeRange.end).toISOString(),
      },
      timeSources: s.timeSources,
      leaves: s.commitment?.leaves,
      root: s.commitment ? toHex(s.commitment.root) : undefined,
    };
  }
  return undefined;
}

/** Prints a verified proof object: JSON, or one line per field. */
export function printProofObject(summary: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const { kind, gateway, ...rest } = summary;
  delete rest.valid;
  process.stdout.write(`VALID ${String(kind)} from ${String(gateway)}\n`);
  for (const [k, v] of Object.entries(rest)) {
    process.stdout.write(`  ${k.padEnd(10)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
}

function parseDay(text: string, flag: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      `${flag} must be a UTC date YYYY-MM-DD, not ${JSON.stringify(text)}`,
    );
  }
  return Date.parse(`${text}T00:00:00Z`) / DAY_MS;
}

export function registerBundleStatementCommand(bundle: Command): void {
  bundle
    .command('statement')
    .description('sign a period statement over every record sealed in a closed range of UTC days')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD (UTC), before the day of the newest sealed bundle')
    .requiredOption('--out <file>', 'output file (COSE_Sign1, CBOR)')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir: string; from: string; to: string; out: string; json?: boolean }) => {
      const fromDay = parseDay(flags.from, '--from');
      const toDay = parseDay(flags.to, '--to');
      if (toDay < fromDay) throw new MaverickError(ErrorCode.CliUsage, '--to is before --from');
      const config = loadConfig(flags.dataDir);
      const db = await openGatewayDatabase(flags.dataDir);
      try {
        const newest = await db.bundles
          .findOne({ selector: { kind: 'bundle' }, sort: [{ id: 'desc' }] })
          .exec();
        if (!newest) {
          throw new MaverickError(ErrorCode.BundleSequence, 'no bundle sealed yet', {
            hint: 'run `maverick bundle seal --data-dir DIR` first',
          });
        }
        const periods = await createPeriodStatements(flags.dataDir, db, config.gateway.id);
        const signed = await periods.sign(fromDay, toDay, newest.toMs);
        writeFileSync(flags.out, signed.cose);
        const summary = {
          from: flags.from,
          to: flags.to,
          leaves: signed.leaves,
          days: signed.days,
          bytes: signed.cose.length,
          out: flags.out,
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else
          process.stdout.write(
            `period ${flags.from}..${flags.to}: ${signed.leaves} records over ${signed.days} days, ${signed.cose.length} bytes signed, written to ${flags.out}\n`,
          );
      } finally {
        await db.close();
      }
    });
}
