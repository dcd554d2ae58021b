/**
 * `--help` works on every registered command, discovered from the program
 * itself so commands added later are covered without touching this test.
 */
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandLoaders } from '../cli/commands/index.js';
import { buildProgram } from '../cli/main.js';
import { runCli } from './helpers/cli.js';

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

/** exitOverride and captured output on every command (subcommands do not inherit settings made after creation). */
function captureAll(command: Command, sink: { out: string }): void {
  command.exitOverride();
  command.configureOutput({ writeOut: (s) => (sink.out += s), writeErr: (s) => (sink.out += s) });
  for (const sub of command.commands) captureAll(sub, sink);
}

const paths = commandPaths(await buildProgram());

describe('commands loaded on demand', () => {
  it.each(commandLoaders.map(([name]) => [name]))(
    '`maverick %s …` loads that one command, registered under the same name',
    async (name) => {
      const program = await buildProgram([name, '--help']);
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    },
  );

  it('loads every command when the first word names none (help, a typo)', async () => {
    for (const argv of [[], ['--help'], ['rnu']]) {
      const program = await buildProgram(argv);
      expect(program.commands.map((c) => c.name())).toEqual(commandLoaders.map(([name]) => name));
    }
  });
});

describe('maverick <command> --help', () => {
  it('finds the commands of this area among the registered ones', () => {
    const names = paths.map((p) => p.join(' '));
    for (const expected of [
      'init',
      'run',
      'doctor',
      'keys',
      'keys show',
      'keys rotate',
      'keys export-public',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(paths.map((p) => [p.join(' '), p]))('%s --help prints usage and exits 0', async (_name, path) => {
    const program = await buildProgram();
    const sink = { out: '' };
    captureAll(program, sink);
    let exitCode: number | undefined;
    try {
      await program.parseAsync([...(path as string[]), '--help'], { from: 'user' });
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      exitCode = err.exitCode;
    }
    expect(exitCode).toBe(0);
    expect(sink.out).toContain(`Usage: maverick ${(path as string[]).join(' ')}`);
  });

  // The in-process checks above cover every command; a real process proves the
  // same through cli/entry.ts for a top-level command and a nested one.
  it.each(['init', 'keys show'])('a real `maverick %s --help` process exits 0', async (name) => {
    const path = name.split(' ');
    const r = await runCli([...path, '--help'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: maverick ${path.join(' ')}`);
  });
});
