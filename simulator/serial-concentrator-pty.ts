/**
 * A real serial cable in software: `socat` joins two pseudo-terminals, and
 * `link=` symlinks keep their paths stable across restarts, so a backend on one
 * end and an emulated MCU on the other talk through the kernel's tty layer
 * exactly as over a USB-UART adapter. Killing the pair is "pulling the cable";
 * starting a new pair on the same links is "plugging it back in".
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { ErrorCode, MaverickError } from '../proto/errors.js';

export interface PtyPair {
  /** Stable symlinks to the two ends (host end, device end). */
  readonly hostPath: string;
  readonly devicePath: string;
  /** The /dev/pts paths socat reported, in the same order. */
  readonly ptsPaths: [string, string];
  /** Kills socat (both ptys close, the symlinks go away); resolves when it has exited. */
  close(): Promise<void>;
}

/** True when the `socat` executable is on PATH. */
export function socatAvailable(): boolean {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/** Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`; resolves once both ptys exist. */
export function startPtyPair(hostPath: string, devicePath: string, timeoutMs = 5_000): Promise<PtyPair> {
  const child = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<PtyPair>((resolve, reject) => {
    const pts: string[] = [];
    let stderr = '';
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new MaverickError(
          ErrorCode.RadioSerialOpen,
          `socat did not start: ${why}; stderr: ${stderr.trim()}`,
          {
            hint: 'install socat (apt-get install socat)',
          },
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`no "starting data transfer loop" within ${timeoutMs} ms`),
      timeoutMs,
    );
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => fail(`exited with code ${code}`));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
      for (const m of text.matchAll(/PTY is (\/dev\/pts\/\d+)/g)) pts.push(m[1] as string);
      if (!settled && /starting data transfer loop/.test(stderr) && pts.length >= 2) {
        settled = true;
        clearTimeout(timer);
        resolve({
          hostPath,
          devicePath,
          ptsPaths: [pts[0] as string, pts[1] as string],
          close: () => stop(child, exited),
        });
      }
    });
  });
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}
