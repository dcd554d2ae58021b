/**
 * The logging contract. proto/ and simulator/ may not import the logger
 * implementation (kernel/log.ts, pino), so they take anything of this shape.
 * Call style follows pino: structured fields first, then the message.
 */
export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (pino has it); absent: assume it would. */
  isLevelEnabled?(level: LogLevel): boolean;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** A logger whose every level writes through `at(level)`; `child` makes the logger with more bindings. */
export function loggerOf(
  at: (level: LogLevel) => LogFn,
  child: (bindings: Record<string, unknown>) => Logger,
): Logger {
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child,
  };
}

const noop: LogFn = () => {};

/** A logger that drops everything: for library callers that did not pass one. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
};

/** At most `perWindow` warnings per window; the number swallowed is reported with the next one let through. */
export class WarnLimiter {
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    if (t - this.#windowStart >= this.windowMs) {
      this.#windowStart = t;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.perWindow) {
      this.#suppressed++;
      return;
    }
    this.#inWindow++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.logger.warn(suppressed > 0 ? { ...fields, suppressedSinceLast: suppressed } : fields, message);
  }
}
