/**
 * Date flags of the CLI (`--from/--to`, `--since/--until`). A bare day
 * (`2026-12-31`) is a whole UTC day: as a start it is that day's first
 * millisecond, as an inclusive end its last, so `--to 2026-12-31` includes
 * the 31st. A full timestamp is taken as it is.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export type DateBound = 'start' | 'end';

export function parseDateFlag(value: string, flag: string, bound: DateBound): number {
  const trimmed = value.trim();
  const ms = Date.parse(DAY.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(ms)) {
    throw new MaverickError(ErrorCode.CliUsage, `${flag} ${value} is not a date`, {
      hint: 'use ISO 8601, e.g. 2026-11-20 (a whole UTC day) or 2026-11-20T06:00:00Z',
    });
  }
  return bound === 'end' && DAY.test(trimmed) ? ms + DAY_MS - 1 : ms;
}
