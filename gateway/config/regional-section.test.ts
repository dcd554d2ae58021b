/**
 * The [regional] section's satellite keys: defaults, errors that name the
 * field, the value and what is allowed, and the render/parse round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaverickError } from '../../proto/errors.js';
import { parseConfigText, renderConfig, validateConfig } from './index.js';

const gateway = { id: 'b827ebfffe123456', region: 'EU868' };

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MaverickError);
    return (err as MaverickError).message;
  }
  throw new Error('expected a MaverickError');
}

describe('[regional] satellite keys', () => {
  it('defaults to the udev name of the modem, 19200 baud and a 4000-byte day', () => {
    const config = validateConfig({ gateway, regional: { links: ['mqtt', 'satellite'] } }, 'x');
    expect(config.regional).toMatchObject({
      links: ['mqtt', 'satellite'],
      sbd_path: '/dev/maverick-satmodem',
      sbd_baud: 19200,
      satellite_daily_bytes: 4000,
      satellite_repeat_percent: 25,
    });
  });

  it('names the field, the bad value and what is allowed', () => {
    const baud = messageOf(() => validateConfig({ gateway, regional: { sbd_baud: 12345 } }, 'x'));
    expect(baud).toContain('regional.sbd_baud');
    expect(baud).toContain('12345');
    expect(baud).toContain('19200');
    const budget = messageOf(() =>
      validateConfig({ gateway, regional: { satellite_daily_bytes: 100 } }, 'x'),
    );
    expect(budget).toContain('regional.satellite_daily_bytes');
    expect(budget).toContain('340..10000000');
    const share = messageOf(() =>
      validateConfig({ gateway, regional: { satellite_repeat_percent: 150 } }, 'x'),
    );
    expect(share).toContain('regional.satellite_repeat_percent');
    expect(share).toContain('0..100');
    const path = messageOf(() => validateConfig({ gateway, regional: { sbd_path: '' } }, 'x'));
    expect(path).toContain('regional.sbd_path');
    const link = messageOf(() => validateConfig({ gateway, regional: { links: ['sbd'] } }, 'x'));
    expect(link).toContain('regional.links');
    expect(link).toContain('"satellite"');
  });

  it('renders the satellite keys with comments and parses them back (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          links: fc.constantFrom(['mqtt'], ['mqtt', 'satellite'], ['satellite', 'mqtt'], ['satellite']),
          sbd_path: fc.constantFrom('/dev/ttyUSB0', '/dev/maverick-satmodem', '/tmp/pty "odd" path'),
          sbd_baud: fc.constantFrom(9600, 19200, 115200),
          satellite_daily_bytes: fc.integer({ min: 340, max: 10_000_000 }),
          satellite_repeat_percent: fc.integer({ min: 0, max: 100 }),
        }),
        (regional) => {
          const config = validateConfig({ gateway, regional }, 'x');
          const text = renderConfig(config);
          expect(text).toMatch(/# .*Iridium SBD modem.*\nsbd_path = /);
          expect(parseConfigText(text)).toEqual(config);
        },
      ),
      { numRuns: 50 },
    );
  });
});
