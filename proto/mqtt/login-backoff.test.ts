import { describe, expect, it } from 'vitest';
import { LoginBackoff } from './login-backoff.js';

describe('LoginBackoff', () => {
  it('locks an address out after the free failures, for a doubling time, capped', () => {
    let now = 0;
    const backoff = new LoginBackoff({ freeFailures: 2, baseMs: 1000, maxMs: 4000, now: () => now });
    backoff.failed('10.0.0.9');
    backoff.failed('10.0.0.9');
    expect(backoff.lockedForMs('10.0.0.9')).toBe(0);
    backoff.failed('10.0.0.9');
    expect(backoff.lockedForMs('10.0.0.9')).toBe(1000);
    now = 1000;
    expect(backoff.lockedForMs('10.0.0.9')).toBe(0);
    backoff.failed('10.0.0.9');
    expect(backoff.lockedForMs('10.0.0.9')).toBe(2000);
    backoff.failed('10.0.0.9');
    backoff.failed('10.0.0.9');
    expect(backoff.lockedForMs('10.0.0.9')).toBe(4000);
    // Another address is not affected; a success clears the record.
    expect(backoff.lockedForMs('10.0.0.10')).toBe(0);
    backoff.succeeded('10.0.0.9');
    expect(backoff.lockedForMs('10.0.0.9')).toBe(0);
  });

  it('forgets old failures and stays bounded under many addresses', () => {
    let now = 0;
    const backoff = new LoginBackoff({
      freeFailures: 1,
      maxAddresses: 100,
      forgetAfterMs: 60_000,
      now: () => now,
    });
    for (let i = 0; i < 1000; i++) backoff.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(backoff.trackedAddresses).toBe(100);
    backoff.failed('a');
    backoff.failed('a');
    expect(backoff.lockedForMs('a')).toBeGreaterThan(0);
    now = 120_000;
    expect(backoff.lockedForMs('a')).toBe(0);
    backoff.failed('a');
    // The count started again: one failure is free.
    expect(backoff.lockedForMs('a')).toBe(0);
  });
});
