import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_MESSAGES, parseStrict } from '../../test/helpers/chirpstack-schema.js';
import { ErrorCode, isMaverickError, MaverickError } from '../errors.js';
import { parseDownlinkCommand } from './command.js';

const topic = 'application/farm/device/0102030405060708/command/down';
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function errorOf(fn: () => unknown): MaverickError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MaverickError) return err;
    throw err;
  }
  throw new Error('expected a MaverickError');
}

describe('downlink command parsing', () => {
  it('parses a ChirpStack command', () => {
    const cmd = parseDownlinkCommand(
      topic,
      enc({ devEui: '0102030405060708', confirmed: true, fPort: 10, data: 'AQID', id: 'abc' }),
    );
    expect(cmd).toEqual({
      applicationId: 'farm',
      devEui: '0102030405060708',
      confirmed: true,
      fPort: 10,
      id: 'abc',
      data: new Uint8Array([1, 2, 3]),
    });
  });

  it('accepts an object for the codec and defaults confirmed to false', () => {
    const cmd = parseDownlinkCommand(topic, enc({ fPort: 2, object: { digitalOutput: { '1': 1 } } }));
    expect(cmd.confirmed).toBe(false);
    expect(cmd.object).toEqual({ digitalOutput: { '1': 1 } });
    expect(cmd.data).toBeUndefined();
  });

  it('accepts every proto3 JSON form that ChirpStack accepts', () => {
    const forms: Record<string, unknown>[] = [
      { fPort: '8', data: 'AQID' },
      { fPort: 8, data: 'AQID', confirmed: null, id: null, devEui: null },
      { fPort: 8, data: 'AQI', expiresAt: '2026-05-01T10:00:00.5+02:00' },
      { fPort: 8, data: '-_8' },
    ];
    for (const body of forms) {
      // The independent oracle: ChirpStack's own schema under strict proto3 JSON rules.
      parseStrict(EVENT_MESSAGES.command, body);
      const cmd = parseDownlinkCommand(topic, enc(body));
      expect(cmd.fPort).toBe(8);
    }
    expect(parseDownlinkCommand(topic, enc(forms[2])).expiresAt?.toISOString()).toBe(
      '2026-05-01T08:00:00.500Z',
    );
    expect([...(parseDownlinkCommand(topic, enc(forms[3])).data ?? [])]).toEqual([0xfb, 0xff]);
    expect([...(parseDownlinkCommand(topic, enc(forms[2])).data ?? [])]).toEqual([1, 2]);
  });

  it('names the offending field', () => {
    const cases: [unknown, RegExp][] = [
      [{ fPort: 0, data: 'AQ==' }, /fPort/],
      [{ fPort: 224, data: 'AQ==' }, /fPort/],
      [{ fPort: '1.5', data: 'AQ==' }, /fPort/],
      [{ fPort: 1, expiresAt: 'tomorrow' }, /expiresAt/],
      [{ fPort: 1, data: 'not base64!' }, /data/],
      [{ fPort: 1, confirmed: 'yes' }, /confirmed/],
      [{ fPort: 1, devEui: 'ffffffffffffffff' }, /devEui.*does not match/],
      [{ fPort: 1, object: [1, 2] }, /object/],
      [{ fPort: 1, data: 'AQ==', object: {} }, /exclusive/],
      [[1, 2], /JSON object/],
    ];
    for (const [body, pattern] of cases) {
      const err = errorOf(() => parseDownlinkCommand(topic, enc(body)));
      expect(err.code).toBe(ErrorCode.MqttBadCommand);
      expect(err.message).toMatch(pattern);
    }
    expect(errorOf(() => parseDownlinkCommand(topic, new Uint8Array([0xff, 0xfe]))).message).toMatch(/JSON/);
    expect(
      errorOf(() => parseDownlinkCommand('application/+/device/x/command/down', enc({ fPort: 1 }))).code,
    ).toBe(ErrorCode.MqttBadTopic);
  });

  it('fuzz: any bytes on any topic give a command or a MaverickError, nothing else', () => {
    const anyJsonish = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map((v) => enc(v)),
      fc
        .record(
          {
            devEui: fc.oneof(fc.constant('0102030405060708'), fc.string()),
            confirmed: fc.oneof(fc.boolean(), fc.integer()),
            fPort: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double()),
            data: fc.oneof(fc.base64String(), fc.string()),
            object: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((v) => enc(v)),
    );
    const anyTopic = fc.oneof(
      fc.constant(topic),
      fc.string(),
      fc.constant('application/a/device/zz/command/down'),
    );
    fc.assert(
      fc.property(anyTopic, anyJsonish, (t, payload) => {
        try {
          const cmd = parseDownlinkCommand(t, payload);
          expect(cmd.fPort).toBeGreaterThanOrEqual(1);
          expect(cmd.fPort).toBeLessThanOrEqual(223);
        } catch (err) {
          if (!isMaverickError(err)) throw err;
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
