/**
 * The one structured logger (pino). Logs go to stderr so that stdout stays
 * free for command output (`--json`). Level comes from MAVERICK_LOG_LEVEL
 * (default `info`; tests run with `warn`).
 *
 * Two forms of the same records: JSON lines (for log shippers), or one line
 * a person reads, `WARN broker refused MQTT 5 url=mqtt://…`, for a terminal
 * and for the journal (`journalctl -u maverick`, which adds its own time
 * stamp). MAVERICK_LOG_FORMAT=json|text chooses; by default text when stderr
 * is a terminal or systemd's journal (JOURNAL_STREAM), JSON otherwise.
 */
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import type { Logger } from '../proto/log.js';

export type { Logger } from '../proto/log.js';

export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  name?: string;
  level?: string;
  /** Write to this file descriptor instead of stderr (2). */
  fd?: number;
  format?: LogFormat;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Keys every record has, left out of the text form (the journal knows time and pid). */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

function textValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[\s"=]/.test(text) && typeof value === 'string' ? JSON.stringify(text) : text;
}

/** One pino JSON record as a line for a person: `LEVEL message key=value …`. */
export function textLine(json: string, withTime: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  const time = withTime && typeof record.time === 'number' ? `${new Date(record.time).toISOString()} ` : '';
  return `${time}${level.padEnd(5)} ${String(record.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}\n`;
}

export function defaultLogFormat(fd: number, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const chosen = env.MAVERICK_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'text') return chosen;
  // systemd sets JOURNAL_STREAM when stderr is connected to the journal.
  if (env.JOURNAL_STREAM) return 'text';
  return fd === 2 && process.stderr.isTTY ? 'text' : 'json';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.MAVERICK_LOG_LEVEL ?? 'info';
  const fd = options.fd ?? 2;
  const pinoOptions = { name: options.name ?? 'maverick', level, base: { pid: process.pid } };
  if ((options.format ?? defaultLogFormat(fd)) === 'json') {
    return pino(pinoOptions, pino.destination({ fd, sync: true })) as unknown as Logger;
  }
  const withTime = !process.env.JOURNAL_STREAM;
  const stream = { write: (line: string) => void writeSync(fd, textLine(line, withTime)) };
  return pino(pinoOptions, stream) as unknown as Logger;
}
