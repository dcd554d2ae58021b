import { describe, expect, it } from 'vitest';
import { IntakeWindow } from './intake-window.js';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    task: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
    },
    open,
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('IntakeWindow', () => {
  it('holds at most `size` items at once; the next waiter gets the slot a finished item frees', async () => {
    const window = new IntakeWindow(2);
    const log: string[] = [];
    const gates = ['a', 'b', 'c'].map((n) => gate(log, n));
    const taken: string[] = [];
    for (const [i, name] of ['a', 'b', 'c'].entries())
      void window.slot().then(() => {
        taken.push(name);
        void window.run(`gw-${name}`, (gates[i] as ReturnType<typeof gate>).task);
      });
    await flush();
    expect(taken).toEqual(['a', 'b']);
    expect(window.inFlight).toBe(2);
    gates[1]?.open();
    await flush();
    expect(taken).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates[0]?.open();
    gates[2]?.open();
    await window.drain();
    expect(window.inFlight).toBe(0);
  });

  it("runs one gateway's items one after another in arrival order, other gateways alongside", async () => {
    const window = new IntakeWindow(8);
    const log: string[] = [];
    const first = gate(log, 'gw1#1');
    const second = gate(log, 'gw1#2');
    const other = gate(log, 'gw2#1');
    for (const [lane, g] of [
      ['gw1', first],
      ['gw1', second],
      ['gw2', other],
    ] as const) {
      await window.slot();
      void window.run(lane, g.task);
    }
    await flush();
    expect(log).toEqual(['start gw1#1', 'start gw2#1']);
    first.open();
    await flush();
    expect(log).toEqual(['start gw1#1', 'start gw2#1', 'end gw1#1', 'start gw1#2']);
    second.open();
    other.open();
    await window.drain();
    expect(window.inFlight).toBe(0);
  });

  it("a failing item frees its slot and does not stop its gateway's next item", async () => {
    const window = new IntakeWindow(1);
    const ran: string[] = [];
    await window.slot();
    const failed = window.run('gw', async () => {
      ran.push('fails');
      throw new Error('store down');
    });
    await window.slot();
    const next = window.run('gw', async () => {
      ran.push('next');
    });
    await expect(failed).resolves.toBeUndefined();
    await next;
    expect(ran).toEqual(['fails', 'next']);
    expect(window.inFlight).toBe(0);
  });

  it('refuses a size below one', () => {
    expect(() => new IntakeWindow(0)).toThrow(RangeError);
  });
});
