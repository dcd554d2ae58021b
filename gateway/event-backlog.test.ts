import { describe, expect, it } from 'vitest';
import { type LogLine, recordingLogger } from '../proto/log.test-helpers.js';
import { EventBacklog } from './event-backlog.js';

/** A publisher whose every publish waits until the test settles it. */
function slowPublisher() {
  const waiting: { topic: string; settle: (ok: boolean) => void }[] = [];
  return {
    waiting,
    publishEvent: (topic: string) =>
      new Promise<void>((resolve, reject) =>
        waiting.push({ topic, settle: (ok) => (ok ? resolve() : reject(new Error('broker gone'))) }),
      ),
  };
}

const flushed = () => new Promise((r) => setImmediate(r));

describe('EventBacklog', () => {
  it('asks for a hold past `high` events in flight and ends it below `low`, logging failures', async () => {
    const publisher = slowPublisher();
    const lines: LogLine[] = [];
    const holds: boolean[] = [];
    const events = new EventBacklog({
      publisher,
      logger: recordingLogger(lines),
      hold: (held) => holds.push(held),
      high: 3,
      low: 2,
    });
    for (let i = 0; i < 5; i++) events.publish({ topic: `t/${i}`, json: { i } });
    events.publish(undefined);
    expect(events.pending()).toBe(5);
    expect(holds).toEqual([true]);
    for (const w of publisher.waiting.splice(0, 3)) w.settle(true);
    await flushed();
    // Two still in flight: not below `low` yet.
    expect(holds).toEqual([true]);
    publisher.waiting.shift()?.settle(false);
    await flushed();
    expect(holds).toEqual([true, false]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'event not published',
        fields: expect.objectContaining({ topic: 't/3' }),
      }),
    ]);
    publisher.waiting.shift()?.settle(true);
    await flushed();
    expect(events.pending()).toBe(0);
    expect(holds).toEqual([true, false]);
  });
});
