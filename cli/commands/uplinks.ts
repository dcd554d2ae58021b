/** `maverick uplinks count|list|export`: what the store kept (works while `maverick run` runs). */
import type { Command } from 'commander';
import { withGatewayStore } from '../../gateway/store-access.js';
import { countUplinks, listUplinks, type UplinkFilter } from '../../kernel/db/uplink-queries.js';
import { normalizeHex } from '../../kernel/ns/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { parseDateFlag } from '../format/dates.js';
import { printJson, renderTable } from '../format/table.js';
import type { RegisterCommand } from './index.js';
import { exportUplinks } from './uplinks-export.js';

interface Flags {
  dataDir: string;
  devEui?: string;
  since?: string;
  until?: string;
  json?: boolean;
  limit?: string;
}

function filterOf(flags: Flags): UplinkFilter {
  const filter: UplinkFilter = {};
  if (flags.devEui) filter.devEui = normalizeHex(flags.devEui, 8, '--dev-eui');
  if (flags.since) filter.sinceMs = parseDateFlag(flags.since, '--since', 'start');
  if (flags.until) filter.untilMs = parseDateFlag(flags.until, '--until', 'end');
  return filter;
}

export const registerUplinks: RegisterCommand = (program: Command) => {
  const uplinks = program.command('uplinks').description('count and list stored uplinks');
  const common = (c: Command) =>
    c
      .requiredOption('--data-dir <dir>', 'data directory')
      .option('--dev-eui <hex16>', 'only this device')
      .option('--since <iso-time>', 'only uplinks received since (a bare day: from its start)')
      .option('--until <iso-time>', 'only uplinks received until, inclusive (a bare day: all of it)')
      .option('--json', 'print JSON');

  common(uplinks.command('count').description('number of stored uplinks')).action(async (flags: Flags) => {
    const n = await withGatewayStore(flags.dataDir, (db) => countUplinks(db, filterOf(flags)));
    if (flags.json) printJson({ count: n });
    else process.stdout.write(`${n}\n`);
  });

  common(uplinks.command('list').description('the most recent stored uplinks, oldest first'))
    .option('--limit <n>', 'how many (most recent)', '100')
    .action(async (flags: Flags) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new MaverickError(ErrorCode.CliUsage, '--limit must be a positive integer');
      const list = await withGatewayStore(flags.dataDir, (db) => listUplinks(db, filterOf(flags), limit));
      if (flags.json) return printJson(list);
      process.stdout.write(
        `${renderTable(
          ['receivedAt', 'devEui', 'fCnt', 'fPort', 'rssi', 'snr', 'time source', 'object'],
          list.map((u) => [
            u.receivedAt,
            u.devEui,
            u.fCnt,
            u.fPort,
            u.rssi,
            u.snr,
            u.timeSource,
            u.object ? JSON.stringify(u.object).slice(0, 60) : '',
          ]),
        )}\n`,
      );
    });

  uplinks
    .command('export')
    .description('stream stored uplinks as CSV (decoded fields as columns) or JSON lines, oldest first')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--format <format>', 'csv or jsonl')
    .option('--dev-eui <hex16>', 'only this device')
    .option('--since <iso-time>', 'only uplinks received since (a bare day: from its start)')
    .option('--until <iso-time>', 'only uplinks received until, inclusive (a bare day: all of it)')
    .option('--out <file>', 'write to FILE instead of standard output')
    .action(async (flags: Flags & { format: string; out?: string }) => {
      if (flags.format !== 'csv' && flags.format !== 'jsonl') {
        throw new MaverickError(ErrorCode.CliUsage, `--format ${flags.format}: use csv or jsonl`);
      }
      const format = flags.format;
      const filter = filterOf(flags);
      await withGatewayStore(flags.dataDir, (db) => exportUplinks(db, filter, format, flags.out));
    });
};
