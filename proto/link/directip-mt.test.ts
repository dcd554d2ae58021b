import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../errors.js';
import {
  decodeMtConfirmation,
  decodeMtMessage,
  encodeMtConfirmation,
  encodeMtMessage,
  mtStatusMeaning,
} from './directip-mt.js';

const IMEI = '300034010123450';

describe('Iridium DirectIP MT messages', () => {
  it('writes the layout byte by byte', () => {
    const bytes = encodeMtMessage({
      clientMessageId: 0x4d736731,
      imei: IMEI,
      flags: 0,
      payload: Uint8Array.of(0x11),
    });
    expect([...bytes]).toEqual([
      1,
      0,
      28, // revision, 28 bytes follow
      0x41,
      0,
      21,
      0x4d,
      0x73,
      0x67,
      0x31,
      ...Buffer.from(IMEI, 'latin1'),
      0,
      0, // header: "Msg1", IMEI, flags
      0x42,
      0,
      1,
      0x11, // payload
    ]);
    expect(decodeMtMessage(bytes)).toEqual({
      clientMessageId: 0x4d736731,
      imei: IMEI,
      flags: 0,
      payload: Uint8Array.of(0x11),
    });
    const confirmation = encodeMtConfirmation({
      clientMessageId: 7,
      imei: IMEI,
      autoIdReference: 99,
      status: -2,
    });
    expect([...confirmation.subarray(0, 6)]).toEqual([1, 0, 28, 0x44, 0, 25]);
    expect(decodeMtConfirmation(confirmation)).toEqual({
      clientMessageId: 7,
      imei: IMEI,
      autoIdReference: 99,
      status: -2,
    });
    expect(mtStatusMeaning(-2)).toMatch(/unknown IMEI/);
    expect(mtStatusMeaning(3)).toBe('queued at position 3');
  });

  it('round-trips any message and confirmation (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.stringMatching(/^[0-9]{15}$/),
        fc.nat({ max: 0xffff }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 1890 }), { nil: undefined }),
        fc.integer({ min: -32768, max: 32767 }),
        (clientMessageId, imei, flags, payload, status) => {
          const m = decodeMtMessage(
            encodeMtMessage({ clientMessageId, imei, flags, ...(payload ? { payload } : {}) }),
          );
          expect(m).toEqual({ clientMessageId, imei, flags, ...(payload ? { payload } : {}) });
          const c = { clientMessageId, imei, autoIdReference: flags * 3, status };
          expect(decodeMtConfirmation(encodeMtConfirmation(c))).toEqual(c);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random and mutated bytes raise only MaverickError (fuzz)', () => {
    const seed = fc
      .uint8Array({ minLength: 1, maxLength: 270 })
      .map((payload) => encodeMtMessage({ clientMessageId: 1, imei: IMEI, flags: 0, payload }));
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(seed, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([bytes, at, value, cut]) => {
        const out = bytes.slice();
        out[at % out.length] = value;
        return cut % 3 === 0 ? out.subarray(0, cut % (out.length + 1)) : out;
      }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        for (const parse of [decodeMtMessage, decodeMtConfirmation]) {
          try {
            parse(bytes);
          } catch (err) {
            if (!isMaverickError(err)) throw err;
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
