import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferedTextSink } from './text-sink.js';

/** Collects the chunks as written (copied: the sink reuses its buffer after each write settles). */
function collector(): { chunks: Buffer[]; write: (chunk: Uint8Array) => Promise<void> } {
  const chunks: Buffer[] = [];
  return {
    chunks,
    write: async (chunk) => {
      chunks.push(Buffer.from(chunk));
    },
  };
}

describe('BufferedTextSink', () => {
  it('writes exactly the UTF-8 of the text it was given, whatever the lines and the capacity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 60 }),
        fc.integer({ min: 4, max: 64 }),
        async (lines, capacity) => {
          const out = collector();
          const sink = new BufferedTextSink(out.write, capacity);
          for (const line of lines) await sink.write(line);
          await sink.flush();
          expect(Buffer.concat(out.chunks).equals(Buffer.from(lines.join(''), 'utf8'))).toBe(true);
          // Never a chunk over the capacity unless one line alone is bigger; never an empty chunk.
          for (const chunk of out.chunks) expect(chunk.length).toBeGreaterThan(0);
          const longest = Math.max(0, ...lines.map((l) => Buffer.byteLength(l)));
          for (const chunk of out.chunks)
            expect(chunk.length).toBeLessThanOrEqual(Math.max(capacity, longest));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds short lines until its buffer is full, then hands on one chunk', async () => {
    const out = collector();
    const sink = new BufferedTextSink(out.write, 10);
    await sink.write('abcd');
    await sink.write('efgh');
    expect(out.chunks).toHaveLength(0);
    await sink.write('ijkl'); // 12 bytes would not fit: the first 8 go out
    expect(out.chunks.map(String)).toEqual(['abcdefgh']);
    await sink.write('€€€€'); // 12 bytes, over the capacity: written through after what is held
    expect(out.chunks.map(String)).toEqual(['abcdefgh', 'ijkl', '€€€€']);
    await sink.flush();
    await sink.flush();
    expect(out.chunks).toHaveLength(3);
  });

  it('keeps what it holds when a write fails, so a retried flush loses nothing', async () => {
    const chunks: string[] = [];
    let fail = true;
    const sink = new BufferedTextSink(async (chunk) => {
      if (fail) throw new Error('disk full');
      chunks.push(Buffer.from(chunk).toString());
    }, 16);
    await sink.write('row 1\n');
    await expect(sink.flush()).rejects.toThrow('disk full');
    fail = false;
    await sink.flush();
    expect(chunks).toEqual(['row 1\n']);
  });
});
