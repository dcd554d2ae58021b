/**
 * `maverick regional serve --config FILE [--worker-id ID]`, or for the
 * embedded default `maverick regional serve --data-dir DIR [--broker-url URL |
 * --port N]` (also `maverick regional --data-dir DIR …`): run the regional
 * node until SIGINT/SIGTERM. Secrets come from 0600 files, never from flags.
 */
import type { Command } from 'commander';
import { readSecretFile } from '../../kernel/keys/secret-file.js';
import { createLogger } from '../../kernel/log.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { redactUrl } from '../../proto/net.js';
import { loadRegionalConfig } from '../../regional/config.js';
import { type RegionalServiceOptions, startRegionalService } from '../../regional/serve.js';

export interface ServeFlags {
  config?: string;
  workerId?: string;
  dataDir?: string;
  brokerUrl?: string;
  host: string;
  port: string;
  username?: string;
  passwordFile?: string;
  allowPlaintextLan?: boolean;
}

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'regional node TOML config: store, broker, intake (example below)')
    .option('--worker-id <id>', 'this worker in a shared intake (stable per worker; systemd passes %i)')
    .option('--data-dir <dir>', 'regional data directory')
    .option('--broker-url <url>', 'use an existing broker (e.g. mosquitto) instead of the embedded one')
    .option('--host <host>', 'embedded broker bind address', '127.0.0.1')
    .option('--port <n>', 'embedded broker port', '1884')
    .option(
      '--username <u>',
      'broker credentials (embedded: required from gateways; external: used to connect)',
    )
    .option('--password-file <file>', 'file (mode 0600) holding the broker password')
    .option(
      '--allow-plaintext-lan',
      'let the embedded broker listen beyond loopback without TLS (only on a closed network)',
    )
    .addHelpText(
      'after',
      `
Example config (--config):
  [store]
  engine = "postgres"
  url = "postgres://maverick@127.0.0.1:5432/maverick"
  password_file = "pg-password"       # mode 0600
  [broker]
  url = "mqtt://127.0.0.1:1883"
  username = "maverick-regional"
  password_file = "broker-password"   # mode 0600
  [intake]
  shared_group = "regional"
  connections = 4                     # MQTT sessions
  in_flight = 32                      # items settled at once; the PostgreSQL pool's default size
  [directip]                          # Iridium SBD DirectIP MO intake (optional)
  port = 10800
  [directip.imeis]
  "300234010753370" = "farm-17"`,
    );
}

function optionsFromFlags(flags: ServeFlags): Omit<RegionalServiceOptions, 'logger'> {
  if (flags.config)
    return loadRegionalConfig(flags.config, flags.workerId ? { workerId: flags.workerId } : {});
  if (!flags.dataDir)
    throw new MaverickError(
      ErrorCode.CliUsage,
      '--config or --data-dir is required to run the regional node',
    );
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new MaverickError(ErrorCode.CliUsage, '--port must be 0..65535');
  if ((flags.username === undefined) !== (flags.passwordFile === undefined)) {
    throw new MaverickError(ErrorCode.CliUsage, 'give both --username and --password-file, or neither');
  }
  return {
    dataDir: flags.dataDir,
    ...(flags.brokerUrl
      ? { brokerUrl: flags.brokerUrl }
      : {
          embedded: {
            host: flags.host,
            port,
            ...(flags.allowPlaintextLan ? { allowPlaintextBeyondLoopback: true } : {}),
          },
        }),
    ...(flags.username && flags.passwordFile
      ? {
          credentials: {
            username: flags.username,
            password: readSecretFile(
              flags.passwordFile,
              `write the broker password into ${flags.passwordFile} with mode 0600`,
            ),
          },
        }
      : {}),
  };
}

export async function serve(flags: ServeFlags): Promise<void> {
  const options = optionsFromFlags(flags);
  const logger = createLogger({ name: 'maverick-regional' });
  const service = await startRegionalService({ ...options, logger });
  process.stdout.write(`maverick regional node listening on ${redactUrl(service.transport.brokerUrl)}\n`);
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
