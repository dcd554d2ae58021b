import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactQueue } from './compact-queue.js';

const uplinkLike = fc.record({
  phyPayload: fc.uint8Array({ maxLength: 255 }),
  rx: fc.record({
    gatewayEui: fc.string({ minLength: 16, maxLength: 16 }),
    rssi: fc.integer(),
    snr: fc.double(),
  }),
  receivedAtMs: fc.nat(),
});

describe('CompactQueue', () => {
  it('gives back what was pushed, in order, under any mix of pushes and shifts', () => {
    fc.assert(
      fc.property(fc.array(fc.option(uplinkLike, { nil: undefined, freq: 3 }), { maxLength: 400 }), (ops) => {
        const queue = new CompactQueue<unknown>();
        const model: unknown[] = [];
        for (const op of ops) {
          if (op === undefined) {
            expect(queue.shift()).toEqual(model.shift());
          } else {
            queue.push(op);
            model.push(op);
          }
          expect(queue.size).toBe(model.length);
        }
        while (model.length > 0) expect(queue.shift()).toEqual(model.shift());
        expect(queue.shift()).toBeUndefined();
        expect(queue.byteLength).toBe(0);
      }),
    );
  });

  it('spans many chunks and takes a record larger than a chunk', () => {
    const queue = new CompactQueue<{ i: number; bytes: Uint8Array }>();
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const n = 20_000;
    for (let i = 0; i < n; i++) queue.push({ i, bytes: i === 777 ? big : Uint8Array.of(i & 255, 1, 2, 3) });
    // Serialised, 20,000 small records take well under 100 bytes each besides the big one.
    expect(queue.byteLength - big.length).toBeLessThan(n * 100);
    for (let i = 0; i < n; i++) {
      const value = queue.shift();
      expect(value?.i).toBe(i);
      if (i === 777) expect(value?.bytes.length).toBe(big.length);
      else expect(Array.from(value?.bytes ?? [])).toEqual([i & 255, 1, 2, 3]);
      // Pushing while reading keeps the order.
      if (i % 1000 === 0) queue.push({ i: n + i / 1000, bytes: Uint8Array.of(9) });
    }
    for (let k = 0; k < n / 1000; k++) expect(queue.shift()?.i).toBe(n + k);
    expect(queue.size).toBe(0);
  });
});
