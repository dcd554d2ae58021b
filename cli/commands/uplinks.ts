/** `maverick uplinks count|list`: what the store kept (works while `maverick run` runs). */
import type { Command } from 'commander';
import { withGatewayStore } from '../../gateway/store-access.js';
import { countUplinks, listUplinks, type UplinkFilter } from '../../kernel/db/uplink-queries.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { printJson, renderTable } from '../format/table.js';
import type { RegisterCommand } from './index.js';

interface Flags {
  dataDir: string;
  devEui?: string;
  since?: string;
  json?: boolean;
  limit?: string;
}

function filterOf(flags: Flags): UplinkFilter {
  const filter: UplinkFilter = {};
  if (flags.devEui) {
    if (!/^[0-9a-fA-F]{16}$/.test(flags.devEui))
      throw new MaverickError(ErrorCode.CliUsage, '--dev-eui must be 16 hex characters');
    filter.devEui = flags.devEui.toLowerCase();
  }
  if (flags.since) {
    const ms = Date.parse(flags.since);
    if (Number.isNaN(ms))
      throw new MaverickError(
        ErrorCode.CliUsage,
        `--since ${flags.since}: not a date (use ISO 8601, e.g. 2026-11-21T06:00:00Z)`,
      );
    filter.sinceMs = ms;
  }
  return filter;
}

export const registerUplinks: RegisterCommand = (program: Command) => {
  const uplinks = program.command('uplinks').description('count and list stored uplinks');
  const common = (c: Command) =>
    c
      .requiredOption('--data-dir <dir>', 'data directory')
      .option('--dev-eui <hex16>', 'only this device')
      .option('--since <iso-time>', 'only uplinks received since')
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
};
