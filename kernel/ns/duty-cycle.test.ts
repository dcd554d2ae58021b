import { describe, expect, it } from 'vitest';
import { DutyCycleTracker } from './duty-cycle.js';

const bands = [
  { minHz: 868_000_000, maxHz: 868_600_000, dutyCycle: 0.01 },
  { minHz: 869_400_000, maxHz: 869_650_000, dutyCycle: 0.1 },
];

describe('DutyCycleTracker', () => {
  it('allows up to 1 % of an hour (36 s) per sub-band and forgets after an hour', () => {
    let now = 0;
    const t = new DutyCycleTracker(bands, () => now);
    for (let i = 0; i < 36; i++) {
      expect(t.allows(868_100_000, 1000)).toBe(true);
      t.record(868_100_000, 1000);
    }
    expect(t.allows(868_100_000, 1)).toBe(false);
    expect(t.allows(869_525_000, 1000)).toBe(true); // another sub-band
    now = 3_600_001;
    expect(t.allows(868_100_000, 1000)).toBe(true);
  });
  it('does not limit frequencies outside every sub-band', () => {
    const t = new DutyCycleTracker(bands);
    expect(t.allows(915_000_000, 1e9)).toBe(true);
  });
});
