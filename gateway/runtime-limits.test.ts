import { describe, expect, it } from 'vitest';
import { backlogBudgetFor, bundleSizeFor } from './runtime-limits.js';

const MiB = 1024 * 1024;

describe('limits the gateway derives from its heap', () => {
  it('keeps the uplink backlog to a sixteenth of a small heap and at most 16 MiB', () => {
    expect(backlogBudgetFor(70 * MiB)).toBe(Math.floor((70 * MiB) / 16));
    expect(backlogBudgetFor(4096 * MiB)).toBe(16 * MiB);
  });

  it('seals smaller bundles on a small heap, at most 2000, never under 500', () => {
    expect(bundleSizeFor(60 * MiB)).toBe(1920);
    expect(bundleSizeFor(70 * MiB)).toBe(2000);
    expect(bundleSizeFor(4096 * MiB)).toBe(2000);
    expect(bundleSizeFor(4 * MiB)).toBe(500);
  });
});
