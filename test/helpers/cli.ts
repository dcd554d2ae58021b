/**
 * Runs the `maverick` CLI from source (`node --import tsx cli/entry.ts ...`),
 * exactly as a user would, with a hard timeout so a hung command fails the
 * test instead of hanging the suite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  /** Exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the helper killed it for running past the timeout. */
  timedOut: boolean;
}

export interface CliOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
}

/** A running CLI process with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr matches `pattern`; rejects after `timeoutMs` or if the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the final result (same as runCli). */
  done: Promise<CliResult>;
}

export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/entry.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, MAVERICK_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  child.stdin?.end(options.input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      notify();
      resolveDone({ code, signal, stdout, stderr, timedOut });
    });
  });
  let ended = false;
  void done.then(() => {
    ended = true;
    notify();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitFor(pattern, waitMs = 15_000) {
      return new Promise((resolveWait, rejectWait) => {
        const check = () => {
          const match = (stdout + stderr).match(pattern);
          if (match) {
            cleanup();
            resolveWait(match);
          } else if (ended) {
            cleanup();
            rejectWait(new Error(`process ended before ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        const waitTimer = setTimeout(() => {
          cleanup();
          rejectWait(new Error(`timed out waiting for ${pattern}:\n${stdout}\n${stderr}`));
        }, waitMs);
        const cleanup = () => {
          clearTimeout(waitTimer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `maverick ...args` to completion. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}
