import type { EventLoopUtilization } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoadGauge, type UtilizationReader } from './load-gauge.js';

/** A loop whose active and idle time the test sets: `run(activeMs, idleMs)` advances both. */
function scriptedLoop() {
  let active = 0;
  let idle = 0;
  const read: UtilizationReader = (current?: EventLoopUtilization, previous?: EventLoopUtilization) => {
    const now = current ?? { active, idle, utilization: active / (active + idle || 1) };
    if (!previous) return now;
    const a = now.active - previous.active;
    const i = now.idle - previous.idle;
    return { active: a, idle: i, utilization: a / (a + i || 1) };
  };
  return {
    read,
    run(activeMs: number, idleMs: number) {
      active += activeMs;
      idle += idleMs;
    },
  };
}

describe('LoadGauge', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is busy from the first window in which the loop ran at least half the time, and idle again after a quiet one', () => {
    const loop = scriptedLoop();
    const gauge = new LoadGauge({ windowMs: 1000, read: loop.read });
    gauge.start();
    expect(gauge.busy()).toBe(false);

    loop.run(300, 700);
    vi.advanceTimersByTime(1000);
    expect(gauge.utilization()).toBeCloseTo(0.3);
    expect(gauge.busy()).toBe(false);

    loop.run(800, 200);
    vi.advanceTimersByTime(1000);
    expect(gauge.utilization()).toBeCloseTo(0.8);
    expect(gauge.busy()).toBe(true);

    // Only the last window counts: one quiet second ends it.
    loop.run(100, 900);
    vi.advanceTimersByTime(1000);
    expect(gauge.busy()).toBe(false);
    gauge.stop();
  });

  it('takes its threshold from busyFrom and stops sampling when stopped', () => {
    const loop = scriptedLoop();
    const gauge = new LoadGauge({ windowMs: 500, busyFrom: 0.9, read: loop.read });
    gauge.start();
    loop.run(400, 100);
    vi.advanceTimersByTime(500);
    expect(gauge.busy()).toBe(false);
    loop.run(480, 20);
    vi.advanceTimersByTime(500);
    expect(gauge.busy()).toBe(true);
    gauge.stop();
    loop.run(0, 500);
    vi.advanceTimersByTime(500);
    expect(gauge.busy()).toBe(true);
  });

  it('reads the real event loop by default', async () => {
    vi.useRealTimers();
    const gauge = new LoadGauge({ windowMs: 20 });
    gauge.start();
    // Keep the loop busy across one whole window, then let the timer sample it.
    const until = performance.now() + 60;
    while (performance.now() < until) {
      /* busy on purpose */
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(gauge.utilization()).toBeGreaterThan(0.5);
    gauge.stop();
  });
});
