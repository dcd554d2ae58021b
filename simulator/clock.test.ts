import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../proto/errors.js';
import { eventually } from '../test/helpers/wait.js';
import { SimClock } from './clock.js';

describe('SimClock, stepped', () => {
  it('runs callbacks in time order (ties in scheduling order) with now() at their instant', async () => {
    const clock = new SimClock({ startMs: 1_000 });
    const seen: string[] = [];
    clock.at(1_500, () => {
      seen.push(`b@${clock.now()}`);
    });
    clock.at(1_200, () => {
      seen.push(`a@${clock.now()}`);
      // Scheduled from a callback, inside the same step: runs in this advance().
      clock.after(100, () => {
        seen.push(`a2@${clock.now()}`);
      });
    });
    clock.at(1_500, () => {
      seen.push(`c@${clock.now()}`);
    });
    clock.at(5_000, () => {
      seen.push('late');
    });
    await clock.advance(1_000);
    expect(seen).toEqual(['a@1200', 'a2@1300', 'b@1500', 'c@1500']);
    expect(clock.now()).toBe(2_000);
    expect(clock.pending).toBe(1);
    expect(clock.nextAt()).toBe(5_000);
  });

  it('awaits asynchronous callbacks one at a time, and cancel() skips one', async () => {
    const clock = new SimClock({ startMs: 0 });
    const order: number[] = [];
    clock.at(10, async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(1);
    });
    const cancelled = clock.at(15, () => {
      order.push(99);
    });
    clock.at(20, () => {
      order.push(2);
    });
    cancelled.cancel();
    await clock.advance(20);
    expect(order).toEqual([1, 2]);
  });

  it('keeps time in whole milliseconds and collects callback errors without stopping', async () => {
    const clock = new SimClock({ startMs: 0 });
    const ran: number[] = [];
    clock.at(10.2, () => {
      throw new Error('boom');
    });
    clock.at(10.7, () => {
      ran.push(clock.now());
    });
    await clock.advance(50);
    expect(ran).toEqual([11]);
    expect(clock.errors).toHaveLength(1);
  });

  it('refuses a bad speed, a non-finite instant, and advance() on a free-running clock', async () => {
    expect(() => new SimClock({ speed: 0 })).toThrow(/positive/);
    expect(() => new SimClock({}).at(Number.NaN, () => {})).toThrow(/schedule/);
    const running = new SimClock({ speed: 10 });
    await expect(running.advance(1)).rejects.toSatisfy(isMaverickError);
  });
});

describe('SimClock, free-running', () => {
  it('runs simulated time N× faster than real time and fires due callbacks from timers', async () => {
    const clock = new SimClock({ startMs: 0, speed: 10_000 });
    const fired: number[] = [];
    // 60 simulated seconds at 10 000× is 6 real ms.
    clock.at(60_000, () => {
      fired.push(clock.now());
    });
    clock.start();
    await eventually(() => fired.length > 0, 20_000, 'the 60 s timer to fire');
    await clock.idle();
    clock.stop();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(60_000);
    const frozen = clock.now();
    await new Promise((r) => setTimeout(r, 10));
    expect(clock.now()).toBe(frozen);
  });
});
