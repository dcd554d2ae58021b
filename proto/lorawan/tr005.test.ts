import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTr005, parseTr005 } from './tr005.js';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const tagValue = fc.stringMatching(/^[A-Za-z0-9]{0,12}$/);

describe('TR005 device QR codes', () => {
  it('reads the mandatory and optional fields', () => {
    expect(parseTr005('LW:D0:70B3D57ED0000000:0004A30B001C0530:0000AB01:O1234:SABC123:CAF21')).toEqual({
      joinEui: '70b3d57ed0000000',
      devEui: '0004a30b001c0530',
      vendorId: '0000',
      profileId: 'ab01',
      ownerToken: '1234',
      serialNumber: 'ABC123',
      checksum: 'AF21',
    });
  });

  it('refuses what is not a D0 device code, saying which field is wrong', () => {
    expect(() => parseTr005('https://example.com')).toThrow(/must start with "LW:"/);
    expect(() => parseTr005('LW:D1:70B3D57ED0000000:0004A30B001C0530:00000000')).toThrow(/schema "D1"/);
    expect(() => parseTr005('LW:D0:70B3D57ED000000:0004A30B001C0530:00000000')).toThrow(/JoinEUI/);
    expect(() => parseTr005('LW:D0:70B3D57ED0000000:0004A30B001C053G:00000000')).toThrow(/DevEUI/);
    expect(() => parseTr005('LW:D0:70B3D57ED0000000:0004A30B001C0530')).toThrow(/ProfileID/);
    expect(() => parseTr005('LW:D0:70B3D57ED0000000:0004A30B001C0530:00000000:X1')).toThrow(
      /unknown optional/,
    );
    expect(() => parseTr005('LW:D0:70B3D57ED0000000:0004A30B001C0530:00000000:S1:S2')).toThrow(/twice/);
  });

  it('round-trips every well-formed code (property)', () => {
    fc.assert(
      fc.property(
        hex(16),
        hex(16),
        hex(4),
        hex(4),
        fc.option(tagValue, { nil: undefined }),
        fc.option(tagValue, { nil: undefined }),
        (joinEui, devEui, vendorId, profileId, ownerToken, serialNumber) => {
          const code = {
            joinEui,
            devEui,
            vendorId,
            profileId,
            ...(ownerToken === undefined ? {} : { ownerToken }),
            ...(serialNumber === undefined ? {} : { serialNumber }),
          };
          expect(parseTr005(formatTr005(code))).toEqual(code);
        },
      ),
    );
  });

  it('throws only TypeError on arbitrary text (property)', () => {
    const near = fc
      .array(fc.oneof(fc.constant('LW'), fc.constant('D0'), hex(16), hex(8), fc.string({ maxLength: 20 })), {
        maxLength: 9,
      })
      .map((parts) => parts.join(':'));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), near), (text) => {
        try {
          const code = parseTr005(text);
          expect(code.devEui).toMatch(/^[0-9a-f]{16}$/);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
        }
      }),
    );
  });
});
