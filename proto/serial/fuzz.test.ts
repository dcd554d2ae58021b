/**
 * Fuzzing the streaming decoder with fast-check: random bytes and mutated valid
 * streams in random chunkings. No throw may escape (errors come back as events,
 * always MaverickError), nothing hangs, and an intact frame after a delimiter is
 * always found.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaverickError } from '../errors.js';
import { encodeMessage } from './codec.js';
import { SerialFrameDecoder, type SerialMessageEvent } from './frame-decoder.js';
import { sampleMessages } from './sample-messages.js';

const validWire = sampleMessages.map((m) => encodeMessage(m));

function feed(bytes: Uint8Array, cuts: number[]): SerialMessageEvent[] {
  const d = new SerialFrameDecoder();
  const events: SerialMessageEvent[] = [];
  let pos = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    events.push(...d.pushMessages(bytes.subarray(pos, Math.max(pos, cut))));
    pos = Math.max(pos, cut);
  }
  events.push(...d.pushMessages(bytes.subarray(pos)));
  // A plain check, not expect(): it runs for every event of 110,000 cases.
  for (const e of events) {
    if (e.kind === 'error' && !(e.error instanceof MaverickError))
      throw new Error('a non-MaverickError escaped');
  }
  return events;
}

const chunking = fc.array(fc.nat(), { maxLength: 6 });

const mutatedStream = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: validWire.length - 1 }), { minLength: 1, maxLength: 4 }),
    fc.array(
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete')),
      {
        maxLength: 4,
      },
    ),
  )
  .map(([picks, mutations]) => {
    const bytes = picks.flatMap((i) => [...(validWire[i] as Uint8Array)]);
    for (const [at, value, op] of mutations) {
      const i = at % (bytes.length + 1);
      if (op === 'flip') bytes[i % bytes.length] = value;
      else if (op === 'insert') bytes.splice(i, 0, value);
      else bytes.splice(i % bytes.length, 1);
    }
    return Uint8Array.from(bytes);
  });

describe('SerialFrameDecoder under fuzzing', () => {
  it('never throws on 60,000 random byte streams', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), chunking, (bytes, cuts) => {
        feed(bytes, cuts);
      }),
      { numRuns: 60_000 },
    );
  });

  it('never throws on 30,000 mutated valid streams, and both decodes and rejects frames among them', () => {
    let messages = 0;
    let errors = 0;
    fc.assert(
      fc.property(mutatedStream, chunking, (bytes, cuts) => {
        for (const e of feed(bytes, cuts)) {
          if (e.kind === 'message') messages++;
          else errors++;
        }
      }),
      { numRuns: 30_000 },
    );
    // The mutations must exercise both paths, or this fuzzing proves little.
    expect(messages).toBeGreaterThan(1_000);
    expect(errors).toBeGreaterThan(1_000);
  });

  it('finds the valid frame after any garbage and a delimiter (20,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 900 }),
        fc.integer({ min: 0, max: validWire.length - 1 }),
        chunking,
        (garbage, pick, cuts) => {
          const frame = validWire[pick] as Uint8Array;
          const stream = new Uint8Array(garbage.length + 1 + frame.length);
          stream.set(garbage);
          stream.set(frame, garbage.length + 1);
          const last = feed(stream, cuts).at(-1);
          // Re-encoding the decoded message must give back the frame byte for byte (cheaper than a deep equal).
          if (last?.kind !== 'message' || Buffer.compare(encodeMessage(last.message), frame) !== 0) {
            throw new Error(`frame ${pick} not found after ${garbage.length} bytes of garbage`);
          }
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
