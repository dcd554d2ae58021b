import { describe, expect, it } from 'vitest';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { decodeCayenneLpp, encodeCayenneLpp } from './cayenne-lpp.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('Cayenne LPP decoder', () => {
  it('decodes the TTS documentation example into ChirpStack keys', () => {
    expect(decodeCayenneLpp(new Uint8Array([0x3, 0x67, 0x01, 0x10, 0x05, 0x67, 0x00, 0xff]))).toEqual({
      data: { temperatureSensor: { '3': 27.2, '5': 25.5 } },
      warnings: [],
      errors: [],
    });
  });

  it('decodes temperature, humidity, barometer and illuminance (Azure starter-kit sample)', () => {
    const result = decodeCayenneLpp(new Uint8Array(Buffer.from('AWcA5gJoMANzJigEZQD9', 'base64')));
    expect(result.data).toEqual({
      temperatureSensor: { '1': 23 },
      humiditySensor: { '2': 24 },
      barometer: { '3': 976.8 },
      illuminanceSensor: { '4': 253 },
    });
  });

  it('decodes the LPP spec GPS example (42.3519, -87.9094, 10 m)', () => {
    expect(decodeCayenneLpp(hex('01 88 06 76 5f f2 96 0a 00 03 e8')).data).toEqual({
      gpsLocation: { '1': { latitude: 42.3519, longitude: -87.9094, altitude: 10 } },
    });
  });

  it('decodes negative values and three-axis types', () => {
    expect(decodeCayenneLpp(hex('06 71 04 d2 fb 2e 00 00')).data).toEqual({
      accelerometer: { '6': { x: 1.234, y: -1.234, z: 0 } },
    });
    expect(decodeCayenneLpp(hex('01 67 ff d7')).data).toEqual({ temperatureSensor: { '1': -4.1 } });
  });

  it('reports malformed input as errors, never throws', () => {
    expect(decodeCayenneLpp(hex('01 67 01')).errors[0]).toMatch(/needs 2 bytes/);
    expect(decodeCayenneLpp(hex('01 ff 00')).errors[0]).toMatch(/unknown data type 255/);
    expect(decodeCayenneLpp(hex('01 67 01 10 02')).errors[0]).toMatch(/stray byte/);
    expect(decodeCayenneLpp(hex('01 67 01 10 02')).data).toBeUndefined();
    expect(decodeCayenneLpp(new Uint8Array(0))).toEqual({ data: {}, warnings: [], errors: [] });
  });

  it('warns about a repeated channel and keeps the last value', () => {
    const result = decodeCayenneLpp(hex('01 67 00 01 01 67 00 02'));
    expect(result.data).toEqual({ temperatureSensor: { '1': 0.2 } });
    expect(result.warnings).toHaveLength(1);
  });
});

describe('Cayenne LPP encoder', () => {
  it('encodes a downlink object', () => {
    expect(Buffer.from(encodeCayenneLpp({ digitalOutput: { '1': 1, '2': 0 } })).toString('hex')).toBe(
      '010101020100',
    );
  });

  it('rounds to the unit rather than truncating (0.29 V stays 0.29)', () => {
    expect(decodeCayenneLpp(encodeCayenneLpp({ analogInput: { '1': 0.29 } })).data).toEqual({
      analogInput: { '1': 0.29 },
    });
  });

  it('names the offending field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ temperatureSensor: { '1': 4000 } }, /temperatureSensor\.1 is out of range/],
      [{ humiditySensor: { '1': 'wet' } }, /humiditySensor\.1 must be a finite number/],
      [{ accelerometer: { '1': { x: 1, y: 2 } } }, /accelerometer\.1\.z/],
      [{ digitalOutput: { '256': 1 } }, /channel must be 0\.\.255/],
      [{ rainfall: { '1': 1 } }, /rainfall is not a Cayenne LPP type/],
    ];
    for (const [input, pattern] of cases) {
      let caught: unknown;
      try {
        encodeCayenneLpp(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MaverickError);
      expect((caught as MaverickError).code).toBe(ErrorCode.CodecInvalid);
      expect((caught as MaverickError).message).toMatch(pattern);
    }
  });
});
