/** `maverick demo` (what `npm start` runs): the field in a box on embedded defaults. */
import type { Command } from 'commander';
import { createLogger } from '../../kernel/log.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { regionIdOf, regionIdsHint } from '../../proto/regions/index.js';
import { runDemo } from '../demo/run-demo.js';
import { DEMO_SATELLITE_DAILY_BYTES } from '../demo/satellite.js';
import { summaryTable } from '../demo/summary.js';
import { printJson } from '../format/table.js';
import type { RegisterCommand } from './index.js';

interface DemoFlags {
  devices: string;
  hours: string;
  outage: string;
  seed: string;
  speed: string;
  brokerUrl?: string;
  satelliteBudget: string;
  region: string;
  json?: boolean;
  keep?: boolean;
}

function int(name: string, text: string, lo: number, hi: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new MaverickError(ErrorCode.CliUsage, `--${name} ${text}: an integer ${lo}..${hi}`);
  return n;
}

export function parseOutage(text: string, hours: number): { startHour: number; endHour: number } | undefined {
  if (text === 'none') return undefined;
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  const [start, end] = m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN];
  if (!m || !(start < end) || end > hours) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      `--outage ${text}: give START-END in simulated hours within 0..${hours} (e.g. 6-9), or none`,
    );
  }
  return { startHour: start, endHour: end };
}

export const registerDemo: RegisterCommand = (program: Command) => {
  program
    .command('demo')
    .description(
      'the field in a box: simulated farm → real gateway process → signed bundles → emulated cellular and satellite links → regional node',
    )
    .option(
      '--devices <n>',
      'farm devices (one weather station, soil probes, air sensors; OTAA and ABP)',
      '10',
    )
    .option('--hours <n>', 'simulated hours', '24')
    .option('--outage <start-end>', 'simulated hours the cellular link is down, or none', '6-9')
    .option('--seed <n>', 'seed of the farm (keys, readings, timing)', '1')
    .option('--speed <ms>', 'real milliseconds per simulated hour', '1500')
    .option('--broker-url <url>', "the regional node's broker (e.g. mosquitto) instead of an embedded one")
    .option(
      '--satellite-budget <bytes>',
      "the gateway's satellite bytes per day (Iridium SBD emulator on a pty; needs socat)",
      String(DEMO_SATELLITE_DAILY_BYTES),
    )
    .option(
      '--region <plan>',
      'the radio region plan of the farm and gateway, any case (e.g. AU915, AS923-2)',
      'EU868',
    )
    .option('--json', 'print the summary as JSON')
    .option('--keep', 'keep the demo data directories (printed in the summary)')
    .action(async (flags: DemoFlags) => {
      const hours = int('hours', flags.hours, 1, 24 * 14);
      const devices = int('devices', flags.devices, 1, 500);
      const outage = parseOutage(flags.outage, hours);
      const region = regionIdOf(flags.region);
      if (!region)
        throw new MaverickError(ErrorCode.CliUsage, `--region ${flags.region}: ${regionIdsHint()}`);
      const logger = createLogger({ name: 'maverick-demo', level: process.env.MAVERICK_LOG_LEVEL ?? 'warn' });
      const tty = process.stderr.isTTY && !flags.json;
      let last = 0;
      const summary = await runDemo({
        devices,
        hours,
        ...(outage ? { outage } : {}),
        seed: int('seed', flags.seed, 0, 2 ** 31),
        realMsPerHour: int('speed', flags.speed, 100, 3_600_000),
        ...(flags.brokerUrl ? { brokerUrl: flags.brokerUrl } : {}),
        satelliteDailyBytes: int('satellite-budget', flags.satelliteBudget, 340, 10_000_000),
        keep: flags.keep ?? false,
        region,
        logger,
        onProgress: (line) => {
          // Live on a terminal; a line every few seconds otherwise (CI logs, pipes).
          if (tty) process.stderr.write(`\r${line}\u001b[K`);
          else if (Date.now() - last > 3000 || line.startsWith('[done]')) {
            last = Date.now();
            process.stderr.write(`${line}\n`);
          }
        },
      });
      if (tty) process.stderr.write('\n');
      if (flags.json) printJson(summary);
      else process.stdout.write(`\n${summaryTable(summary)}\n`);
      process.exitCode = summary.ok ? 0 : 1;
    });
};
