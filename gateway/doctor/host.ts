/** Real implementations of the doctor's seams: host commands, the running gateway's /status, TCP probes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { StatusSnapshot } from '../metrics/metrics.js';
import type { CommandOutcome } from './types.js';

/** A /proc file's text, or undefined where it does not exist (not Linux) or cannot be read. */
export function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs a program without a shell; `missing` when it is not installed. Never rejects. */
export function runHostCommand(command: string, args: string[], timeoutMs: number): Promise<CommandOutcome> {
  return new Promise((resolveRun) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        resolveRun({ kind: 'missing' });
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolveRun({ kind: 'exited', code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Asks a running gateway for its status; undefined when nothing answers in time or the answer is not ours. */
export async function fetchGatewayStatus(
  url: string,
  timeoutMs: number,
): Promise<StatusSnapshot | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    if (body === null || typeof body !== 'object') return undefined;
    const snapshot = body as Partial<StatusSnapshot>;
    // Only trust a document shaped like ours (another service could own the port).
    if (typeof snapshot.radio !== 'object' || typeof snapshot.clock !== 'object' || snapshot.radio === null) {
      return undefined;
    }
    return snapshot as StatusSnapshot;
  } catch {
    return undefined;
  }
}

/** TCP connect probe: resolves with undefined on success, or the error code. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host, port });
    const finish = (result: string | undefined) => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolveProbe(result);
    };
    socket.setTimeout(timeoutMs, () => finish('ETIMEDOUT'));
    socket.once('connect', () => finish(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

/** The address to dial for a listen address: a wildcard bind is reachable on loopback. */
export function dialHost(bindHost: string): string {
  if (bindHost === '0.0.0.0') return '127.0.0.1';
  if (bindHost === '::') return '::1';
  return bindHost;
}
