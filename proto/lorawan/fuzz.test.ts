/**
 * Fuzzing the parsers that meet untrusted radio bytes: decodePhy may throw
 * only MaverickError, parseMacCommands never throws, decodeJoinAccept (device
 * side) only MaverickError. 100k inputs each; the per-test timeout bounds hangs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLorawanError } from '../errors.js';
import { fromHex } from './bytes.js';
import { decodeJoinAccept } from './join.js';
import { parseMacCommands } from './mac.js';
import { decodePhy, decryptFrmPayload, verifyDataMic } from './phy.js';

const RUNS = 100_000;
const key = fromHex('2b7e151628aed2a6abf7158809cf4f3c');

/** Random bytes, plus frames that start with a plausible MHDR and FCtrl so the fuzzer reaches deeper branches. */
const phyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      fc.constantFrom(0x00, 0x20, 0x40, 0x60, 0x80, 0xa0),
      fc.uint8Array({ minLength: 4, maxLength: 40 }),
    )
    .map(([mhdr, rest]) => Uint8Array.from([mhdr, ...rest])),
  // Well-formed data-frame shape (FOptsLen consistent with the FOpts present) with random contents.
  fc
    .tuple(
      fc.constantFrom(0x40, 0x60, 0x80, 0xa0),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 15 }),
      fc.uint8Array({ maxLength: 15 }),
      fc.uint8Array({ maxLength: 30 }),
    )
    .map(([mhdr, addr, flags, fOpts, rest]) =>
      Uint8Array.from([mhdr, ...addr, (flags << 4) | fOpts.length, 1, 0, ...fOpts, ...rest, 0, 0, 0, 0]),
    ),
);

function onlyMaverickErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!isLorawanError(err)) throw err;
  }
}

describe('fuzz', () => {
  it(`decodePhy throws nothing but MaverickError on ${RUNS} random inputs`, () => {
    let decoded = 0;
    fc.assert(
      fc.property(phyBytes, (bytes) => {
        onlyMaverickErrors(() => {
          const frame = decodePhy(bytes);
          decoded++;
          if (frame.kind === 'data') {
            // Whatever decodes must be safe to verify and decrypt too.
            verifyDataMic(frame, key, frame.fCnt16);
            decryptFrmPayload(frame, key, frame.fCnt16);
          }
        });
      }),
      { numRuns: RUNS },
    );
    // The generator must reach the success path, or the fuzzing proves little.
    expect(decoded).toBeGreaterThan(RUNS / 10);
  });

  it(`parseMacCommands never throws on ${RUNS} random inputs`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 48 }),
        fc.constantFrom('up' as const, 'down' as const),
        (bytes, dir) => {
          const result = parseMacCommands(bytes, dir);
          expect(Array.isArray(result.commands)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('decodeJoinAccept throws nothing but MaverickError on random inputs', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Uint8Array.from([0x20, ...b])),
        ),
        (bytes) => onlyMaverickErrors(() => decodeJoinAccept(bytes, key)),
      ),
      { numRuns: 20_000 },
    );
  });
});
