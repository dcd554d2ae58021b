import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatagramQueue, readDatagramBatch } from './datagram-queue.js';

interface Datagram {
  bytes: Uint8Array;
  at: number;
}

function read(batch: ArrayBuffer): Datagram[] {
  const out: Datagram[] = [];
  // Copies: the views share the batch's buffer.
  readDatagramBatch(batch, (datagram, at) => out.push({ bytes: Uint8Array.from(datagram), at }));
  return out;
}

describe('DatagramQueue', () => {
  it('gives back every datagram with its reception time, in order, in batches of at most the size asked', () => {
    const queue = new DatagramQueue();
    const sent: Datagram[] = [];
    for (let i = 0; i < 2000; i++) {
      // 2 to 601 bytes, and once one larger than a chunk (a record of its own).
      const bytes = Buffer.alloc(i === 1000 ? 300_000 : 2 + ((i * 37) % 600), i & 0xff);
      bytes.writeUInt16BE(i);
      const at = 1_733_000_000_000 + i * 0.25;
      queue.push(bytes, at);
      sent.push({ bytes, at });
    }
    expect(queue.size).toBe(2000);
    const got: Datagram[] = [];
    while (queue.size > 0) {
      const batch = read(queue.take(64));
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(64);
      got.push(...batch);
    }
    expect(got.length).toBe(sent.length);
    for (const [i, datagram] of got.entries()) {
      expect(datagram.at).toBe(sent[i]?.at);
      expect(Buffer.compare(datagram.bytes, sent[i]?.bytes ?? new Uint8Array())).toBe(0);
    }
    expect(queue.byteLength).toBe(0);
    expect(queue.take(64).byteLength).toBe(0);
  });

  it('packs a batch into a buffer of exactly its records, so nothing else crosses to the event loop', () => {
    const queue = new DatagramQueue();
    for (let i = 0; i < 10; i++) queue.push(new Uint8Array(100), i);
    const batch = queue.take(4);
    // Four records of a 12-byte header and 100 bytes: not the 256 KiB chunk they waited in.
    expect(batch.byteLength).toBe(4 * 112);
    expect(queue.size).toBe(6);
    expect(queue.byteLength).toBe(6 * 112);
  });

  it('reuses emptied chunks: a trickle allocates one chunk, a burst emptied at its head as it fills at its tail a few', () => {
    const trickle = new DatagramQueue({ chunkBytes: 1024, spareChunks: 2 });
    for (let i = 0; i < 1000; i++) {
      trickle.push(new Uint8Array(40).fill(i & 0xff), i);
      expect(read(trickle.take(64))[0]?.at).toBe(i);
    }
    expect(trickle.chunksAllocated).toBe(1);

    // A queue ~6 chunks deep, taken from as fast as it is filled: without reuse every chunk
    // that passes through would be a new one (~1,000 of them here).
    const burst = new DatagramQueue({ chunkBytes: 1024, spareChunks: 2 });
    for (let i = 0; i < 120; i++) burst.push(new Uint8Array(40), i);
    for (let round = 0; round < 1000; round++) {
      for (let i = 0; i < 20; i++) burst.push(new Uint8Array(40), round);
      expect(read(burst.take(20))).toHaveLength(20);
    }
    expect(burst.chunksAllocated).toBeLessThanOrEqual(10);
    // Drained, at most the spare count stays (the rest is let go to the collector).
    while (burst.size > 0) burst.take(64);
    expect(burst.spareChunks).toBeLessThanOrEqual(2);
    // A datagram larger than a chunk gets its own, never kept for reuse.
    burst.push(new Uint8Array(5000), 1);
    burst.take(1);
    expect(burst.spareChunks).toBeLessThanOrEqual(2);
  });

  it.each([
    ['default chunks', {}],
    ['small chunks, crossed and reused often', { chunkBytes: 256, spareChunks: 2 }],
  ])('matches a plain array under any interleaving of pushes and takes (%s)', (_name, options) => {
    const operation = fc.oneof(
      fc.record({ push: fc.uint8Array({ maxLength: 2000 }), at: fc.double({ noNaN: true }) }),
      fc.record({ push: fc.uint8Array({ maxLength: 100 }), at: fc.double({ noNaN: true }) }),
      fc.record({ take: fc.integer({ min: 1, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 400 }), (operations) => {
        const queue = new DatagramQueue(options);
        const model: Datagram[] = [];
        for (const op of operations) {
          if ('push' in op) {
            queue.push(op.push, op.at);
            model.push({ bytes: op.push, at: op.at });
          } else {
            const expected = model.splice(0, op.take);
            const got = read(queue.take(op.take));
            expect(got).toEqual(expected);
          }
          expect(queue.size).toBe(model.length);
        }
      }),
    );
  });
});
