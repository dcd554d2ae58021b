/** A logger that keeps every line in an array, for tests that assert what was logged. */
import type { Logger } from './log.js';

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  msg?: string;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const make = (level: string) => (a: Record<string, unknown> | string, b?: string) => {
    if (typeof a === 'string') lines.push({ level, fields: {}, msg: a });
    else lines.push({ level, fields: a, msg: b });
  };
  const logger: Logger = {
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: () => logger,
  };
  return logger;
}
