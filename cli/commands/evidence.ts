/**
 * `maverick evidence verify PACK`: checks an evidence pack offline with public keys alone
 * (proto/evidence/verify.ts, the same core the HTML page runs), prints every check by name and
 * exits 0 only when all hold. `maverick evidence page --out FILE` writes the self-contained
 * HTML verifier. The pack is built on the regional node (`maverick regional evidence`).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { publicKeyFromPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { reportMarkdown } from '../../proto/evidence/report.js';
import { verifyPack } from '../../proto/evidence/verify.js';
import type { RegisterCommand } from './index.js';

/** Where `npm run build` leaves the page: beside the compiled code (dist/cli/commands → dist) or, from source, in dist/. */
export function evidencePagePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../../evidence-verifier.html'),
    resolve(here, '../../dist/evidence-verifier.html'),
  ];
  return candidates.find((c) => existsSync(c)) ?? (candidates[0] as string);
}

export const registerEvidence: RegisterCommand = (program: Command) => {
  const evidence = program
    .command('evidence')
    .description('verify evidence packs offline (claims, statements, spot checks)');

  evidence
    .command('verify <pack>')
    .description(
      'verify every signature, root, proof and claim binding of an evidence pack; exit 0 only if all hold',
    )
    .option('--regional-key <pem>', "the regional node's published public key: the pack must be signed by it")
    .option('--report <file>', 'write the human-readable report (Markdown) here')
    .option('--json', 'one JSON document on stdout')
    .action((file: string, flags: { regionalKey?: string; report?: string; json?: boolean }) => {
      const bytes = new Uint8Array(readFileSync(file));
      const regionalKey = flags.regionalKey
        ? publicKeyFromPem(readFileSync(flags.regionalKey, 'utf8'))
        : undefined;
      const v = verifyPack(bytes, regionalKey ? { regionalKey } : {});
      if (flags.report) writeFileSync(flags.report, reportMarkdown(v));
      if (flags.json) {
        const summary = {
          valid: v.ok,
          file,
          bytes: bytes.length,
          regionalKid: v.regionalKid ?? null,
          regionalPinned: v.regionalPinned ?? null,
          plotId: v.claims?.plotId ?? null,
          disclosedRecords: v.records.length,
          checks: v.checks,
          failures: v.checks.filter((c) => !c.ok).map((c) => c.name),
        };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        const out = process.stdout;
        for (const c of v.checks) out.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
        const failures = v.checks.filter((c) => !c.ok).length;
        out.write(
          v.ok
            ? `VALID evidence pack for plot ${v.claims?.plotId}: ${v.checks.length} checks hold, ${v.records.length} records disclosed, regional key ${v.regionalKid}${v.regionalPinned ? ' (pinned)' : ' (not pinned: compare it with the published key)'}\n`
            : `INVALID evidence pack: ${failures} of ${v.checks.length} checks fail\n`,
        );
      }
      if (!v.ok) process.exitCode = 1;
    });

  evidence
    .command('page')
    .description('write the self-contained HTML verifier (open it offline, drop a pack in)')
    .requiredOption('--out <file>', 'where to write the page')
    .action((flags: { out: string }) => {
      const page = evidencePagePath();
      if (!existsSync(page)) {
        throw new MaverickError(
          ErrorCode.ConfigMissing,
          `the verifier page was not built (${page} is missing)`,
          {
            hint: 'run `npm run build`',
          },
        );
      }
      copyFileSync(page, flags.out);
      process.stdout.write(`wrote ${flags.out}\n`);
    });
};
