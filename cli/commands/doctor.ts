/** `maverick doctor`: checks a gateway's setup and says how to fix what is wrong. */
import type { Command } from 'commander';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { RegisterCommand } from './index.js';

interface DoctorFlags {
  dataDir: string;
  json?: boolean;
  listenSeconds: string;
}

export const registerDoctor: RegisterCommand = (program: Command) => {
  program
    .command('doctor')
    .description(
      'check config, concentrator link, forwarder, clock, disk, key permissions, broker, regional link',
    )
    .requiredOption('--data-dir <dir>', 'data directory written by maverick init')
    .option('--json', 'one JSON document on stdout')
    .option('--listen-seconds <s>', 'how long to listen for packet-forwarder datagrams', '3')
    .action(async (flags: DoctorFlags) => {
      const listenSeconds = Number(flags.listenSeconds);
      if (!Number.isFinite(listenSeconds) || listenSeconds < 0.1 || listenSeconds > 60) {
        throw new MaverickError(
          ErrorCode.CliUsage,
          `--listen-seconds ${flags.listenSeconds} is not allowed: a number 0.1..60`,
        );
      }
      const { formatReport, runDoctor } = await import('../../gateway/doctor/index.js');
      const report = await runDoctor({ dataDir: flags.dataDir, listenMs: Math.round(listenSeconds * 1000) });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      // Non-zero when any check fails, so scripts and provisioning can gate on it.
      if (!report.ok) process.exitCode = 1;
    });
};
