import { describe, expect, it } from 'vitest';
import { type LogLine, recordingLogger } from '../proto/log.test-helpers.js';
import { EventBacklog } from './event-backlog.js';

/** A publisher whose every publish waits until the test settles it. */
function slowPublisher() {
  const waiting: { topic: string; text: string; settle: (ok: boolean) => void }[] = [];
  return {
    waiting,
    publishJson: (topic: string, text: string) =>
      new Promise<void>((resolve, reject) =>
        waiting.push({ topic, text, settle: (ok) => (ok ? resolve() : reject(new Error('broker gone'))) }),
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

  it('keeps at most `window` events inside the publisher and sends the rest in order as they finish', async () => {
    const publisher = slowPublisher();
    const holds: boolean[] = [];
    const events = new EventBacklog({
      publisher,
      logger: recordingLogger([]),
      hold: (held) => holds.push(held),
      window: 2,
      high: 4,
      low: 2,
    });
    for (let i = 0; i < 6; i++) events.publish({ topic: `t/${i}`, json: { i } });
    // Two inside the publisher, four waiting here; the hold counts both.
    expect(publisher.waiting.map((w) => w.topic)).toEqual(['t/0', 't/1']);
    expect(events.pending()).toBe(6);
    expect(holds).toEqual([true]);
    const sent: string[] = [];
    for (let round = 0; round < 10 && publisher.waiting.length > 0; round++) {
      const next = publisher.waiting.shift();
      if (!next) break;
      sent.push(`${next.topic} ${next.text}`);
      // Never more than the window inside the publisher.
      expect(publisher.waiting.length).toBeLessThan(2);
      next.settle(round % 2 === 0);
      await flushed();
    }
    expect(sent).toEqual([0, 1, 2, 3, 4, 5].map((i) => `t/${i} {"i":${i}}`));
    expect(events.pending()).toBe(0);
    expect(holds).toEqual([true, false]);
  });

  it('logs an event that cannot be serialised and publishes the next one', async () => {
    const publisher = slowPublisher();
    const lines: LogLine[] = [];
    const events = new EventBacklog({ publisher, logger: recordingLogger(lines), hold: () => {} });
    events.publish({ topic: 't/bad', json: { n: 1n } });
    events.publish({ topic: 't/good', json: { n: 1 } });
    expect(publisher.waiting.map((w) => w.topic)).toEqual(['t/good']);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'event not published',
        fields: expect.objectContaining({ topic: 't/bad' }),
      }),
    ]);
    publisher.waiting.shift()?.settle(true);
    await flushed();
    expect(events.pending()).toBe(0);
  });
});
