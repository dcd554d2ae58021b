import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../errors.js';
import {
  decodeMoConfirmation,
  decodeMoMessage,
  encodeMoConfirmation,
  encodeMoMessage,
  MO_MESSAGE_MAX,
  type MoMessage,
  moMessageLength,
} from './directip.js';

/** Written byte by byte from the layout in directip.ts / LINK.md, not with the encoder. */
const HANDMADE = Uint8Array.from([
  0x01,
  0x00,
  0x33, // revision 1, 51 bytes follow
  0x01,
  0x00,
  0x1c, // MO header, 28 bytes
  0x00,
  0x01,
  0xe2,
  0x40, // CDR reference 123456
  ...Buffer.from('300234010753370', 'latin1'),
  0x00, // session status: success
  0x30,
  0x39, // MOMSN 12345
  0xd4,
  0x31, // MTMSN 54321
  0x65,
  0x53,
  0xf1,
  0x00, // 1700000000
  0x02,
  0x00,
  0x03,
  0xaa,
  0xbb,
  0xcc, // payload
  0x03,
  0x00,
  0x0b, // location, 11 bytes
  0x03, // south, west
  0x2d,
  0x75,
  0x30, // 45° 30.000'
  0x07,
  0x3a,
  0x98, // 7° 15.000'
  0x00,
  0x00,
  0x00,
  0x05, // CEP 5 km
]);

describe('Iridium DirectIP MO messages', () => {
  it('reads a message written by hand from the layout', () => {
    expect(moMessageLength(HANDMADE)).toBe(HANDMADE.length);
    const m = decodeMoMessage(HANDMADE);
    expect(m.header).toEqual({
      cdrReference: 123456,
      imei: '300234010753370',
      sessionStatus: 0,
      momsn: 12345,
      mtmsn: 54321,
      timeOfSession: 1_700_000_000,
    });
    expect([...(m.payload ?? [])]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(m.location).toEqual({ latitude: -45.5, longitude: -7.25, cepRadiusKm: 5 });
    expect(Buffer.from(encodeMoMessage(m)).equals(Buffer.from(HANDMADE))).toBe(true);
  });

  it('confirmation is revision 1, length 4, IE 0x05 of 1 byte', () => {
    expect([...encodeMoConfirmation(true)]).toEqual([1, 0, 4, 5, 0, 1, 1]);
    expect([...encodeMoConfirmation(false)]).toEqual([1, 0, 4, 5, 0, 1, 0]);
    expect(decodeMoConfirmation(encodeMoConfirmation(true))).toBe(true);
    expect(() => decodeMoConfirmation(Uint8Array.of(1, 0, 4, 5, 0, 1, 7))).toThrow(/confirmation/);
  });

  it('refuses wrong revisions, lengths that lie, short or repeated IEs, bad IMEIs, and no header', () => {
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.of(2, 0, 31), /revision 2/],
      [Uint8Array.of(1, 0xff, 0xff), /larger than any MO message/],
      [Uint8Array.of(1, 0, 5), /cannot hold an MO header/],
      [HANDMADE.subarray(0, HANDMADE.length - 1), /overall length/],
      [Uint8Array.from([...HANDMADE.subarray(0, 1), 0x00, 0x34, ...HANDMADE.subarray(3), 0x09]), /cut short/],
    ];
    const badImei = HANDMADE.slice();
    badImei[10] = 0x41;
    cases.push([badImei, /IMEI/]);
    const twice = Uint8Array.from([1, 0, 0x33 + 6, ...HANDMADE.subarray(3), 0x02, 0x00, 0x03, 1, 2, 3]);
    cases.push([twice, /twice/]);
    const noHeader = Uint8Array.from([1, 0, 37, 0x02, 0x00, 0x22, ...new Uint8Array(34)]);
    cases.push([noHeader, /without an MO header/]);
    const longIe = HANDMADE.slice();
    longIe[36] = 0x20; // the payload IE claims 0x0020 bytes
    cases.push([longIe, /runs past/]);
    for (const [bytes, message] of cases) expect(() => decodeMoMessage(bytes)).toThrow(message);
  });

  it('round-trips any message (property)', () => {
    const message: fc.Arbitrary<MoMessage> = fc.record(
      {
        header: fc.record({
          cdrReference: fc.nat({ max: 0xffffffff }),
          imei: fc.stringMatching(/^[0-9]{15}$/),
          sessionStatus: fc.integer({ min: 0, max: 255 }),
          momsn: fc.nat({ max: 0xffff }),
          mtmsn: fc.nat({ max: 0xffff }),
          timeOfSession: fc.nat({ max: 0xffffffff }),
        }),
        payload: fc.uint8Array({ minLength: 1, maxLength: 1960 }),
        location: fc.record({
          latitude: fc.integer({ min: -90 * 60_000, max: 90 * 60_000 }).map((m) => m / 60_000),
          longitude: fc.integer({ min: -180 * 60_000, max: 180 * 60_000 }).map((m) => m / 60_000),
          cepRadiusKm: fc.nat({ max: 0xffffffff }),
        }),
      },
      { requiredKeys: ['header'] },
    );
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMoMessage(m);
        expect(bytes.length).toBeLessThanOrEqual(MO_MESSAGE_MAX);
        const back = decodeMoMessage(bytes);
        expect(back.header).toEqual(m.header);
        expect(back.payload && Buffer.from(back.payload).toString('hex')).toEqual(
          m.payload && Buffer.from(m.payload).toString('hex'),
        );
        if (m.location) {
          expect(back.location?.latitude).toBeCloseTo(m.location.latitude, 9);
          expect(back.location?.longitude).toBeCloseTo(m.location.longitude, 9);
          expect(back.location?.cepRadiusKm).toBe(m.location.cepRadiusKm);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random and mutated bytes raise only MaverickError (fuzz)', () => {
    const seed = fc.uint8Array({ minLength: 1, maxLength: 340 }).map((payload) =>
      encodeMoMessage({
        header: {
          cdrReference: 1,
          imei: '300234010753370',
          sessionStatus: 0,
          momsn: 1,
          mtmsn: 0,
          timeOfSession: 1,
        },
        payload,
        location: { latitude: 1, longitude: 2, cepRadiusKm: 3 },
      }),
    );
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .tuple(
          seed,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.nat(),
        )
        .map(([bytes, flips, cut]) => {
          const out = bytes.slice();
          for (const [at, value] of flips) out[at % out.length] = value;
          return cut % 4 === 0 ? out.subarray(0, cut % (out.length + 1)) : out;
        }),
    );
    let decoded = 0;
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          moMessageLength(bytes);
          decodeMoMessage(bytes);
          decoded++;
        } catch (err) {
          if (!isMaverickError(err)) throw err;
        }
      }),
      { numRuns: 20_000 },
    );
    expect(decoded).toBeGreaterThan(0); // the mutations keep some messages valid: the parser is exercised past its checks
  });
});
