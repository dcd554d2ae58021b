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
import { exportPlot, geoJsonText } from '../../regional/export-geojson.js';
import { type OpenedRegional, openRegional } from '../../regional/open-node.js';
import { loadRegionalKey } from '../../regional/serve.js';
import type { RegisterCommand } from './index.js';
import { registerRegionalServe } from './regional-serve.js';

async function withRegional<T>(dataDir: string, fn: (r: OpenedRegional) => Promise<T>): Promise<T> {
  const regional = await openRegional({ dataDir: resolve(dataDir) });
  try {
    return await fn(regional);
  } finally {
    await regional.close();
  }
}

function parseTime(value: string, flag: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new MaverickError(ErrorCode.CliUsage, `${flag} ${value} is not a date`, {
      hint: 'use ISO 8601, e.g. 2026-11-20 or 2026-11-20T06:00:00Z',
    });
  }
  return ms;
}

export const registerRegional: RegisterCommand = (program: Command) => {
  const regional = program
    .command('regional')
    .description('the regional node: verify, store and export gateway bundles');
  registerRegionalServe(regional);
  const gateway = regional.command('gateway').description('gateways whose bundles this node accepts');

  gateway
    .command('add')
    .description('register a gateway public key (PEM from `maverick keys export-public`)')
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .requiredOption('--id <gatewayId>', 'the gateway id the bundles name as issuer')
    .requiredOption('--pub <pem>', 'public key file (PEM)')
    .option('--label <text>', 'a note, e.g. the farm name')
    .action(async (flags: { dataDir: string; id: string; pub: string; label?: string }) => {
      const publicKey = publicKeyFromPem(readFileSync(flags.pub, 'utf8'));
      await withRegional(flags.dataDir, async ({ registry }) => {
        const record = await registry.add(flags.id, publicKey, flags.label ? { label: flags.label } : {});
        process.stdout.write(`gateway ${record.gatewayId} key ${record.kid} registered\n`);
      });
    });

  gateway
    .command('list')
    .description('list registered gateway keys')
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .action(async (flags: { dataDir: string }) => {
      await withRegional(flags.dataDir, async ({ registry }) => {
        for (const k of registry.list()) {
          process.stdout.write(
            `${k.gatewayId}\t${k.kid}\t${new Date(k.addedAt).toISOString()}\t${k.label ?? ''}\n`,
          );
        }
      });
    });

  gateway
    .command('remove')
    .description('stop accepting bundles signed by a key')
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .requiredOption('--kid <kid>', 'key id (16 hex characters)')
    .action(async (flags: { dataDir: string; kid: string }) => {
      await withRegional(flags.dataDir, async ({ registry }) => {
        if (!(await registry.remove(flags.kid.toLowerCase()))) {
          throw new MaverickError(ErrorCode.RegionalUnknownGateway, `no registered key ${flags.kid}`, {
            hint: 'maverick regional gateway list shows the key ids',
          });
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
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .action(async (files: string[], flags: { dataDir: string }) => {
      await withRegional(flags.dataDir, async ({ node }) => {
        for (const file of files) {
          const result = await node.ingestFile(file);
          process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);
          if (result.status === 'rejected') process.exitCode = 1;
        }
      });
    });

  regional
    .command('alerts')
    .description('list chain alerts (gaps, equivocations, replays, broken links)')
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .option('--gateway <id>', 'only this gateway')
    .action(async (flags: { dataDir: string; gateway?: string }) => {
      await withRegional(flags.dataDir, async ({ store }) => {
        for (const a of await store.listAlerts(flags.gateway)) {
          const { conflictingCose: _proof, ...details } = a.details;
          process.stdout.write(`${JSON.stringify({ ...a, details })}\n`);
        }
      });
    });

  regional
    .command('export')
    .description('EUDR GeoJSON for one plot and period, plus a verification report')
    .requiredOption('--data-dir <dir>', 'regional data directory')
    .requiredOption('--plot <id>', 'plot id')
    .requiredOption('--from <date>', 'period start (ISO 8601)')
    .requiredOption('--to <date>', 'period end (ISO 8601, inclusive)')
    .requiredOption('--out <file>', 'GeoJSON output file')
    .option('--report <file>', 'verification report (JSON) output file')
    .action(
      async (flags: {
        dataDir: string;
        plot: string;
        from: string;
        to: string;
        out: string;
        report?: string;
      }) => {
        await withRegional(flags.dataDir, async ({ store, registry }) => {
          const { geojson, report } = await exportPlot(store, registry, {
            plotId: flags.plot,
            from: parseTime(flags.from, '--from'),
            to: parseTime(flags.to, '--to'),
          });
          writeFileSync(flags.out, geoJsonText(geojson));
          if (flags.report) writeFileSync(flags.report, `${JSON.stringify(report, null, 2)}\n`);
          process.stdout.write(
            `${report.uplinks} uplinks from ${report.bundles.length} bundles; all bundles valid: ${report.allBundlesValid}; geometry ${report.geometry.type}${report.geometry.eudrCompliant ? '' : ` (NOT EUDR-compliant: ${report.geometry.issue})`}\n`,
          );
          if (!report.allBundlesValid || !report.geometry.eudrCompliant) process.exitCode = 1;
        });
      },
    );
};
