import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../../proto/errors.js';
import { parseDateFlag } from './dates.js';

describe('date flags', () => {
  it('takes a bare day as a whole UTC day: its first ms as a start, its last ms as an inclusive end', () => {
    expect(new Date(parseDateFlag('2026-12-31', '--from', 'start')).toISOString()).toBe(
      '2026-12-31T00:00:00.000Z',
    );
    expect(new Date(parseDateFlag('2026-12-31', '--to', 'end')).toISOString()).toBe(
      '2026-12-31T23:59:59.999Z',
    );
  });

  it('takes a timestamp as given, and names the flag of a bad value', () => {
    expect(parseDateFlag('2026-12-31T06:00:00Z', '--to', 'end')).toBe(Date.UTC(2026, 11, 31, 6));
    let err: unknown;
    try {
      parseDateFlag('last tuesday', '--until', 'end');
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err)).toBe(true);
    expect((err as Error).message).toMatch(/--until/);
  });
});
