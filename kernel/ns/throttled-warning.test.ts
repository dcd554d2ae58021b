import { describe, expect, it } from 'vitest';
import type { Logger } from '../../proto/log.js';
import { ThrottledWarning } from './throttled-warning.js';

function recorder(lines: { fields: Record<string, unknown>; msg: string }[]): Logger {
  const none = () => {};
  const logger: Logger = {
    trace: none,
    debug: none,
    info: none,
    warn: (fields: Record<string, unknown> | string, msg?: string) => {
      if (typeof fields !== 'string') lines.push({ fields, msg: msg ?? '' });
    },
    error: none,
    fatal: none,
    child: () => logger,
  };
  return logger;
}

describe('a throttled warning', () => {
  it('logs the first occurrence at once, then one line per interval with the count since the last', () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    let now = 0;
    const warning = new ThrottledWarning(recorder(lines), 'window skipped', 60_000, () => now);
    warning.warn({ gatewayEui: 'a' });
    for (let i = 0; i < 999; i++) {
      now += 50;
      warning.warn({ gatewayEui: 'b' });
    }
    expect(lines).toEqual([{ fields: { gatewayEui: 'a', occurrences: 1 }, msg: 'window skipped' }]);
    now = 60_000;
    warning.warn({ gatewayEui: 'c' });
    expect(lines.at(-1)).toEqual({ fields: { gatewayEui: 'c', occurrences: 1000 }, msg: 'window skipped' });
    now += 1;
    warning.warn({ gatewayEui: 'd' });
    expect(lines).toHaveLength(2);
  });
});
