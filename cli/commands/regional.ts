/**
 * `maverick regional …`: the regional node's registry, file intake, alerts
 * and EUDR export, on `<data-dir>/regional/`. (Serving bundles from MQTT comes
 * with the sync issue.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../../proto/bundle/ed25519.js';
import { publicKeyFromPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { issueBrokerCredentials } from '../../regional/broker-credentials.js';
import { loadRegionalConfig } from '../../regional/config.js';
import { exportPlot, geoJsonText } from '../../regional/export-geojson.js';
import { type OpenedRegional, openRegional } from '../../regional/open-node.js';
import { loadRegionalKey } from '../../regional/serve.js';
import { parseDateFlag } from '../format/dates.js';
import type { RegisterCommand } from './index.js';
import { registerRegionalEvidence } from './regional-evidence.js';
import { registerRegionalServe } from './regional-serve.js';

export interface StoreFlags {
  dataDir?: string;
  config?: string;
}

/** The node's data directory and store from --config (e.g. PostgreSQL) or --data-dir (embedded). */
export function regionalOptions(flags: StoreFlags): {
  dataDir: string;
  postgres?: { url: string; password?: string };
} {
  if (flags.config) {
    const loaded = loadRegionalConfig(flags.config);
    return { dataDir: loaded.dataDir, ...(loaded.postgres ? { postgres: loaded.postgres } : {}) };
  }
  if (flags.dataDir) return { dataDir: resolve(flags.dataDir) };
  throw new MaverickError(ErrorCode.CliUsage, 'give --config (the regional TOML) or --data-dir');
}

/** The store named by --config (e.g. PostgreSQL) or the embedded one in --data-dir. */
export async function withRegional<T>(flags: StoreFlags, fn: (r: OpenedRegional) => Promise<T>): Promise<T> {
  const regional = await openRegional(regionalOptions(flags));
  try {
    return await fn(regional);
  } finally {
    await regional.close();
  }
}

export const registerRegional: RegisterCommand = (program: Command) => {
  const regional = program
    .command('regional')
    .description('the regional node: verify, store and export gateway bundles');
  registerRegionalServe(regional);
  registerRegionalEvidence(regional);
  const gateway = regional.command('gateway').description('gateways whose bundles this node accepts');

  gateway
    .command('add')
    .description('register a gateway public key (PEM from `maverick keys export-public`)')
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .requiredOption('--id <gatewayId>', 'the gateway id the bundles name as issuer')
    .requiredOption('--pub <pem>', 'public key file (PEM)')
    .option('--label <text>', 'a note, e.g. the farm name')
    .option(
      '--broker-dir <dir>',
      'also issue broker credentials: update <dir>/passwd and <dir>/acl for mosquitto (SIGHUP it), or for the embedded broker ([broker] gateway_password_file = "<dir>/passwd", read on change), and write <dir>/<id>.password (0600) for the gateway',
    )
    .action(async (flags: StoreFlags & { id: string; pub: string; label?: string; brokerDir?: string }) => {
      const publicKey = publicKeyFromPem(readFileSync(flags.pub, 'utf8'));
      await withRegional(flags, async ({ registry }) => {
        const record = await registry.add(flags.id, publicKey, flags.label ? { label: flags.label } : {});
        process.stdout.write(`gateway ${record.gatewayId} key ${record.kid} registered\n`);
      });
      if (flags.brokerDir) {
        const issued = await issueBrokerCredentials(resolve(flags.brokerDir), flags.id);
        process.stdout.write(
          `broker user ${issued.username}: password in ${issued.passwordFile} (give it to the gateway as its [regional] password file)\n`,
        );
      }
    });

  gateway
    .command('list')
    .description('list registered gateway keys (removed ones with --all)')
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .option('--all', 'also list removed keys, with the time they were removed')
    .action(async (flags: StoreFlags & { all?: boolean }) => {
      await withRegional(flags, async ({ registry }) => {
        for (const k of registry.list({ includeRemoved: flags.all === true })) {
          const removed = k.removedAt === undefined ? '' : `\tremoved ${new Date(k.removedAt).toISOString()}`;
          process.stdout.write(
            `${k.gatewayId}\t${k.kid}\t${new Date(k.addedAt).toISOString()}\t${k.label ?? ''}${removed}\n`,
          );
        }
      });
    });

  gateway
    .command('remove')
    .description(
      'stop accepting anything new signed by a key (rotated, lost, stolen); what it signed before stays verifiable',
    )
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .requiredOption('--kid <kid>', 'key id (16 hex characters)')
    .action(async (flags: StoreFlags & { kid: string }) => {
      await withRegional(flags, async ({ registry }) => {
        if (!(await registry.remove(flags.kid.toLowerCase()))) {
          throw new MaverickError(
            ErrorCode.RegionalUnknownGateway,
            `no registered key in use with id ${flags.kid}`,
            {
              hint: 'maverick regional gateway list shows the key ids (--all also the removed ones)',
            },
          );
        }
        process.stdout.write(`key ${flags.kid} removed\n`);
      });
    });

  regional
    .command('key')
    .description("the regional node's ack key: creates it if needed, prints the public key file for gateways")
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .action(async (flags: { dataDir: string }) => {
      const key = await loadRegionalKey(resolve(flags.dataDir));
      process.stdout.write(`${key.publicKeyFile}\t${toHex(key.kid)}${key.created ? '\t(new)' : ''}\n`);
    });

  regional
    .command('ingest <files...>')
    .description('verify and store bundle files; prints one result per file, exit 1 if any was rejected')
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .action(async (files: string[], flags: StoreFlags) => {
      await withRegional(flags, async ({ node }) => {
        for (const file of files) {
          const result = await node.ingestFile(file);
          process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);
          if (result.status === 'rejected') process.exitCode = 1;
        }
      });
    });

  regional
    .command('alerts')
    .description('list open chain alerts (gaps, equivocations, broken links)')
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .option('--gateway <id>', 'only this gateway')
    .option('--all', 'include closed alerts (their cause was resolved; kept with closedAt and closedReason)')
    .action(async (flags: StoreFlags & { gateway?: string; all?: boolean }) => {
      await withRegional(flags, async ({ store }) => {
        for (const a of await store.listAlerts(flags.gateway, { includeClosed: flags.all === true })) {
          const { conflictingCose: _proof, ...details } = a.details;
          process.stdout.write(`${JSON.stringify({ ...a, details })}\n`);
        }
      });
    });

  regional
    .command('overrule')
    .description(
      'rule a bundle out of its gateway chain (resolves an equivocation or broken link); it stays stored as proof',
    )
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .requiredOption('--gateway <id>', 'the gateway')
    .requiredOption('--digest <hex>', 'the bundle digest to rule out (from `maverick regional alerts`)')
    .requiredOption('--reason <text>', 'why, kept in the closed alerts')
    .action(async (flags: StoreFlags & { gateway: string; digest: string; reason: string }) => {
      await withRegional(flags, async ({ node }) => {
        const { undisputed } = await node.overrule(flags.gateway, flags.digest.toLowerCase(), flags.reason);
        process.stdout.write(
          `bundle ${flags.digest} overruled; ${undisputed.length > 0 ? `sequence ${undisputed.join(', ')} back in evidence` : 'no other verdict changed'}\n`,
        );
      });
    });

  regional
    .command('export')
    .description('EUDR GeoJSON for one plot and period, plus a verification report')
    .option('--data-dir <dir>', 'regional data directory (embedded store)')
    .option('--config <file>', 'regional node TOML config (its store, e.g. PostgreSQL)')
    .requiredOption('--plot <id>', 'plot id')
    .requiredOption('--from <date>', 'period start (ISO 8601)')
    .requiredOption('--to <date>', 'period end (ISO 8601, inclusive: a bare day includes all of it)')
    .requiredOption('--out <file>', 'GeoJSON output file')
    .option('--report <file>', 'verification report (JSON) output file')
    .action(
      async (
        flags: StoreFlags & {
          plot: string;
          from: string;
          to: string;
          out: string;
          report?: string;
        },
      ) => {
        await withRegional(flags, async ({ store, registry }) => {
          const { geojson, report } = await exportPlot(store, registry, {
            plotId: flags.plot,
            from: parseDateFlag(flags.from, '--from', 'start'),
            to: parseDateFlag(flags.to, '--to', 'end'),
          });
          writeFileSync(flags.out, geoJsonText(geojson));
          if (flags.report) writeFileSync(flags.report, `${JSON.stringify(report, null, 2)}\n`);
          const heldBack =
            report.heldBack.length > 0
              ? `; ${report.heldBack.length} bundles held back by chain disputes (see \`maverick regional alerts\`)`
              : '';
          process.stdout.write(
            `${report.uplinks} uplinks from ${report.bundles.length} bundles${heldBack}; all bundles valid: ${report.allBundlesValid}; geometry ${report.geometry.type}${report.geometry.eudrCompliant ? '' : ` (NOT EUDR-compliant: ${report.geometry.issue})`}\n`,
          );
          if (!report.allBundlesValid || !report.geometry.eudrCompliant) process.exitCode = 1;
        });
      },
    );
};
