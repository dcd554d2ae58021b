import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statementForm, statementFormDigest } from './cose.js';

describe('statementFormDigest', () => {
  it('is SHA-256 of the statement form, for pieces of every head size', () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 30 }),
      fc.uint8Array({ minLength: 250, maxLength: 300 }),
      fc.integer({ min: 65_530, max: 65_540 }).map((n) => new Uint8Array(n).fill(7)),
    );
    fc.assert(
      fc.property(piece, piece, fc.uint8Array({ minLength: 64, maxLength: 64 }), (p, payload, signature) => {
        const envelope = { protectedBytes: p, payload, signature };
        const expected = createHash('sha256').update(statementForm(envelope)).digest();
        expect(Buffer.from(statementFormDigest(envelope))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
