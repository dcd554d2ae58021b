/**
 * `maverick regional serve --data-dir DIR [--broker-url URL | --port N]` (also
 * `maverick regional --data-dir DIR --broker-url URL`): run the regional node
 * until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { createLogger } from '../../kernel/log.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { startRegionalService } from '../../regional/serve.js';

export interface ServeFlags {
  dataDir?: string;
  brokerUrl?: string;
  host: string;
  port: string;
  username?: string;
  password?: string;
}

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'regional data directory')
    .option('--broker-url <url>', 'use an existing broker (e.g. mosquitto) instead of the embedded one')
    .option('--host <host>', 'embedded broker bind address', '127.0.0.1')
    .option('--port <n>', 'embedded broker port', '1884')
    .option(
      '--username <u>',
      'broker credentials (embedded: required from gateways; external: used to connect)',
    )
    .option('--password <p>', 'broker password');
}

export async function serve(flags: ServeFlags): Promise<void> {
  if (!flags.dataDir)
    throw new MaverickError(ErrorCode.CliUsage, '--data-dir is required to run the regional node');
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new MaverickError(ErrorCode.CliUsage, '--port must be 0..65535');
  if ((flags.username === undefined) !== (flags.password === undefined)) {
    throw new MaverickError(ErrorCode.CliUsage, 'give both --username and --password, or neither');
  }
  const logger = createLogger({ name: 'maverick-regional' });
  const service = await startRegionalService({
    dataDir: flags.dataDir,
    ...(flags.brokerUrl ? { brokerUrl: flags.brokerUrl } : { embedded: { host: flags.host, port } }),
    ...(flags.username && flags.password
      ? { credentials: { username: flags.username, password: flags.password } }
      : {}),
    logger,
  });
  process.stdout.write(`maverick regional node listening on ${service.transport.brokerUrl}\n`);
  process.stdout.write(
    `acks signed with key ${toHex(service.key.kid)}; give gateways ${service.key.publicKeyFile} (maverick init --regional-node-key)\n`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal }, 'regional node stopping');
  await service.close();
}

export function registerRegionalServe(regional: Command): void {
  addServeOptions(
    regional.command('serve').description('run the regional node: MQTT intake, verification, storage, acks'),
  ).action((flags: ServeFlags) => serve(flags));
  // `maverick regional --data-dir DIR --broker-url URL` runs it too. Its options are
  // positional (before any subcommand) so `regional gateway add --data-dir …` keeps its own.
  regional.enablePositionalOptions();
  addServeOptions(regional).action((flags: ServeFlags) => serve(flags));
}
