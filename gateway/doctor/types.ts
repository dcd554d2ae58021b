/** What every doctor check returns, and the seams that make checks testable without real hardware. */
import type { StatusSnapshot } from '../metrics/metrics.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, e.g. "config", "concentrator:semtech-udp", "clock". */
  id: string;
  status: CheckStatus;
  /** What was found, in one or two sentences. */
  finding: string;
  /** What to do about it (absent when status is ok). */
  fix?: string;
}

/** The result of running a host command; `missing` when the program is not installed. */
export type CommandOutcome =
  | { kind: 'exited'; code: number; stdout: string; stderr: string }
  | { kind: 'missing' };

export type CommandRunner = (command: string, args: string[], timeoutMs: number) => Promise<CommandOutcome>;

export type SerialProbeResult =
  | { kind: 'hello'; firmware: string; protocolVersion: number }
  | { kind: 'silent' }
  | { kind: 'error'; message: string };

export type SerialProbe = (path: string, baudRate: number, timeoutMs: number) => Promise<SerialProbeResult>;

export interface DoctorOptions {
  dataDir: string;
  /** How long to listen for forwarder datagrams when no gateway is running (ms). */
  listenMs?: number;
  /** Timeout of each TCP/HTTP/serial probe (ms). */
  probeTimeoutMs?: number;
  /** The installed packet-forwarder config (default /etc/lora-pkt-fwd/global_conf.json). */
  forwarderConfPath?: string;
  /** Seams for tests; default to the real host. */
  runCommand?: CommandRunner;
  serialProbe?: SerialProbe;
  /** Reads a /proc file (e.g. /proc/sys/net/core/rmem_max); undefined when it cannot be read. */
  readProcFile?: (path: string) => string | undefined;
  fetchStatus?: (url: string, timeoutMs: number) => Promise<StatusSnapshot | undefined>;
}

export interface DoctorReport {
  dataDir: string;
  /** False when any check failed. */
  ok: boolean;
  checks: CheckResult[];
}

export const ok = (id: string, finding: string): CheckResult => ({ id, status: 'ok', finding });
export const warn = (id: string, finding: string, fix: string): CheckResult => ({
  id,
  status: 'warn',
  finding,
  fix,
});
export const fail = (id: string, finding: string, fix: string): CheckResult => ({
  id,
  status: 'fail',
  finding,
  fix,
});
