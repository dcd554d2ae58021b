/**
 * The one structured logger (pino). Logs go to stderr as JSON lines so that
 * stdout stays free for command output (`--json`). Level comes from
 * MAVERICK_LOG_LEVEL (default `info`; tests run with `warn`).
 */
import { pino } from 'pino';
import type { Logger } from '../proto/log.js';

export type { Logger } from '../proto/log.js';

export interface LoggerOptions {
  name?: string;
  level?: string;
  /** Write to this file descriptor instead of stderr (2). */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.MAVERICK_LOG_LEVEL ?? 'info';
  return pino(
    { name: options.name ?? 'maverick', level, base: { pid: process.pid } },
    pino.destination({ fd: options.fd ?? 2, sync: true }),
  ) as unknown as Logger;
}
