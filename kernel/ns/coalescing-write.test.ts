import { describe, expect, it } from 'vitest';
import { CoalescingWrite } from './coalescing-write.js';

/** A write the test finishes by hand; it records the state it read when it started. */
function handDriven(state: { value: number }) {
  const started: number[] = [];
  const finish: (() => void)[] = [];
  const writer = new CoalescingWrite(
    () =>
      new Promise<void>((resolve) => {
        started.push(state.value);
        finish.push(resolve);
      }),
  );
  return { writer, started, finish };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('CoalescingWrite', () => {
  it('runs one write now and one after it for every caller meanwhile, with the newest state', async () => {
    const state = { value: 0 };
    const { writer, started, finish } = handDriven(state);
    const done: number[] = [];
    state.value = 1;
    void writer.request().then(() => done.push(1));
    for (let v = 2; v <= 100; v++) {
      state.value = v;
      void writer.request().then(() => done.push(v));
    }
    await settle();
    expect(started).toEqual([1]);
    finish.shift()?.();
    await settle();
    // Only the first caller's change was in the finished write; the 99 others share the next one.
    expect(done).toEqual([1]);
    expect(started).toEqual([1, 100]);
    finish.shift()?.();
    await settle();
    expect(done).toHaveLength(100);
    expect(started).toEqual([1, 100]);
  });

  it('starts afresh once idle', async () => {
    const state = { value: 7 };
    const { writer, started, finish } = handDriven(state);
    const first = writer.request();
    finish.shift()?.();
    await first;
    state.value = 8;
    const second = writer.request();
    finish.shift()?.();
    await second;
    expect(started).toEqual([7, 8]);
  });
});
