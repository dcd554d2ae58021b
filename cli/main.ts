/**
 * `maverick`: the composition root. The only module (with cli/commands/*) that
 * may import every folder: it wires simulator, gateway and regional node
 * together for the demo and builds each production command.
 */
import { Command, CommanderError } from 'commander';
import { isMaverickError } from '../proto/errors.js';
import { commandsFor } from './commands/index.js';

/** The program with every command, or only the one `argv` names (what `main` runs). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('maverick')
    .description(
      'Offline-first LoRaWAN gateway: network server, farm telemetry store, signed compliance bundles.',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  // Subcommands are created by each register(); they must inherit exit handling
  // so `maverick <cmd> --help` returns to main() instead of calling process.exit.
  program.exitOverride();
  // Options belong to the command they follow (`regional --broker-url` vs `regional gateway add --data-dir`).
  program.enablePositionalOptions();
  for (const register of await commandsFor(argv)) register(program);
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      sub.showHelpAfterError('(run with --help for usage)');
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode;
    }
    if (isMaverickError(err)) {
      process.stderr.write(`maverick: error ${err.code} (${err.codeName}): ${err.message}\n`);
      return 1;
    }
    process.stderr.write(
      `maverick: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 70;
  }
}
