import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';
import {
  loadConfig,
  parseConfigText,
  radioConfigsOf,
  renderConfig,
  renderDefaultConfig,
  validateConfig,
} from './index.js';

const minimal = '[gateway]\nid = "B827EBFFFE123456"\nregion = "EU868"\n';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MaverickError);
    return (err as MaverickError).message;
  }
  throw new Error('expected a MaverickError');
}

describe('config defaults and round trip', () => {
  it('fills every default from a minimal file', () => {
    const config = parseConfigText(minimal);
    expect(config.gateway).toEqual({ id: 'b827ebfffe123456', region: 'EU868', net_id: '000000' });
    expect(config.radio.backend).toEqual(['semtech-udp']);
    expect(config.radio.udp.bind).toEqual({ host: '127.0.0.1', port: 1700 });
    expect(config.mqtt).toMatchObject({ host: '127.0.0.1', port: 1883, password_file: 'mqtt-password' });
    expect(config.store.synchronous).toBe('FULL');
    expect(config.metrics.bind).toEqual({ host: '127.0.0.1', port: 8868 });
  });

  it('reads region names in any case', () => {
    for (const written of ['eu868', 'Eu868', ' EU868 ']) {
      const config = parseConfigText(minimal.replace('"EU868"', JSON.stringify(written)));
      expect(config.gateway.region).toBe('EU868');
    }
    expect(problemsOf(() => parseConfigText(minimal.replace('"EU868"', '"eu433x"')))).toMatch(
      /gateway.region/,
    );
  });

  it('renders a commented file that explains every key and parses back to the same config', () => {
    const text = renderDefaultConfig({ gateway: { id: 'b827ebfffe123456', region: 'US915' } });
    const keyLines = text.split('\n').filter((l) => /^[a-z_]+ = /.test(l));
    const lines = text.split('\n');
    for (const line of keyLines) {
      const index = lines.indexOf(line);
      expect(lines[index - 1], `no comment above ${line}`).toMatch(/^# /);
    }
    expect(parseConfigText(text)).toEqual(
      validateConfig({ gateway: { id: 'b827ebfffe123456', region: 'US915' } }, 'x'),
    );
  });

  it('round-trips any valid config (property)', () => {
    const eui = fc.stringMatching(/^[0-9a-f]{16}$/);
    const host = fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', 'gw.local');
    const input = fc.record({
      gateway: fc.record({
        id: eui,
        region: fc.constantFrom('EU868' as const),
        net_id: fc.stringMatching(/^[0-9a-f]{6}$/),
      }),
      radio: fc.record({
        backend: fc.constantFrom<string | string[]>(
          'semtech-udp',
          ['semtech-udp', 'serial'],
          ['single-channel'],
        ),
        udp: fc.record({
          bind: fc
            .tuple(host, fc.integer({ min: 1, max: 65535 }))
            .map(([h, p]) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`)),
        }),
        serial: fc.record({
          path: fc.constantFrom('/dev/ttyACM0', '/dev/maverick-concentrator'),
          baud: fc.constantFrom(9600, 115200),
        }),
        single_channel: fc.record({
          path: fc.constant('/dev/ttyUSB9'),
          frequency_hz: fc.integer({ min: 863_000_000, max: 870_000_000 }),
        }),
      }),
      mqtt: fc.record(
        {
          host,
          port: fc.integer({ min: 1, max: 65535 }),
          username: fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
          password_file: fc.string({ minLength: 1, maxLength: 30 }),
          tls: fc.record({ cert: fc.string({ minLength: 1 }), key: fc.string({ minLength: 1 }) }),
          external_url: fc.constantFrom('mqtt://10.0.0.1:1883', 'mqtts://broker.example:8883'),
        },
        { requiredKeys: [] },
      ),
      regional: fc.record(
        {
          url: fc.constant('mqtts://regional.example:8883'),
          links: fc.constantFrom(['mqtt'], ['satellite', 'mqtt'], []),
        },
        { requiredKeys: ['links'] },
      ),
      store: fc.record({
        retention_days: fc.integer({ min: 1, max: 36500 }),
        quota_mb: fc.integer({ min: 16, max: 100000 }),
      }),
    });
    fc.assert(
      fc.property(input, (raw) => {
        const config = validateConfig(raw, 'generated');
        expect(parseConfigText(renderConfig(config))).toEqual(config);
      }),
      { numRuns: 300 },
    );
  });

  it('maps the radio tables to one backend setting each', () => {
    const config = parseConfigText(
      `${minimal}[radio]\nbackend = ["serial", "single-channel"]\n[radio.serial]\npath = "/dev/ttyACM0"\n[radio.single_channel]\npath = "/dev/ttyUSB0"\nfrequency_hz = 868100000\nbaud = 9600\n`,
    );
    expect(radioConfigsOf(config)).toEqual([
      { kind: 'serial', path: '/dev/ttyACM0', baudRate: 115200, gatewayEui: 'b827ebfffe123456' },
      {
        kind: 'single-channel',
        path: '/dev/ttyUSB0',
        baudRate: 9600,
        gatewayEui: 'b827ebfffe123456',
        frequencyHz: 868100000,
      },
    ]);
  });
});

describe('config errors name the field, the value and what is allowed', () => {
  it('reports a bad port by path', () => {
    const message = problemsOf(() => parseConfigText(`${minimal}[mqtt]\nport = 70000\n`));
    expect(message).toContain('mqtt.port: 70000 is not allowed: an integer 1..65535');
  });

  it('reports a bad bind address', () => {
    const message = problemsOf(() => parseConfigText(`${minimal}[radio.udp]\nbind = "127.0.0.1:70000"\n`));
    expect(message).toContain(
      'radio.udp.bind: "127.0.0.1:70000" is not allowed: HOST:PORT with a port 1..65535',
    );
  });

  it('rejects unknown keys and suggests the intended one', () => {
    const message = problemsOf(() => parseConfigText(`${minimal}[mqtt]\nprot = 1883\n`));
    expect(message).toContain('mqtt.prot: unknown key (did you mean "port"?)');
    expect(message).toContain('allowed here: host, port, username');
  });

  it('reports every problem at once, with the code ConfigInvalid', () => {
    try {
      parseConfigText('[gateway]\nid = "xyz"\nregion = "EU869"\n[store]\nsynchronous = "OFF"\n');
      expect.unreachable();
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.ConfigInvalid)).toBe(true);
      const message = (err as MaverickError).message;
      expect(message).toContain('gateway.id: "xyz" is not allowed: 16 hexadecimal characters');
      expect(message).toContain('gateway.region: "EU869" is not allowed: one of "EU868", "US915"');
      expect(message).toContain('store.synchronous: "OFF" is not allowed: one of "NORMAL", "FULL", "EXTRA"');
    }
  });

  it('requires a device path for an enabled serial backend and a frequency in the band', () => {
    const message = problemsOf(() =>
      parseConfigText(
        `${minimal}[radio]\nbackend = "single-channel"\n[radio.single_channel]\npath = "/dev/x"\nfrequency_hz = 915000000\n`,
      ),
    );
    expect(message).toContain(
      'radio.single_channel.frequency_hz: 915000000 is not allowed: an integer 863000000..870000000 Hz',
    );
  });

  it('gives line and column for TOML syntax errors', () => {
    try {
      parseConfigText('[gateway]\nid = "b827ebfffe123456\n', '/x/maverick.toml');
      expect.unreachable();
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.ConfigParse)).toBe(true);
      expect((err as MaverickError).message).toMatch(/^\/x\/maverick\.toml:2:\d+: TOML syntax error/);
    }
  });

  it('treats a __proto__ key as an unknown key, not as a prototype', () => {
    const message = problemsOf(() => parseConfigText(`${minimal}[log]\n__proto__ = { level = "debug" }\n`));
    expect(message).toContain('log.__proto__: unknown key');
  });
});

describe('loadConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('says to run maverick init when the file is missing', () => {
    dir = mkdtempSync(join(tmpdir(), 'maverick-config-'));
    try {
      loadConfig(dir);
      expect.unreachable();
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.ConfigMissing)).toBe(true);
      expect((err as Error).message).toContain(`run maverick init --data-dir ${dir}`);
    }
  });

  it('lets flags override the file and validates them the same way', () => {
    dir = mkdtempSync(join(tmpdir(), 'maverick-config-'));
    writeFileSync(join(dir, 'maverick.toml'), `${minimal}[mqtt]\nport = 1884\n`);
    const config = loadConfig(dir, { mqtt: { port: 2883 }, radio: { udp: { bind: '0.0.0.0:1701' } } });
    expect(config.mqtt.port).toBe(2883);
    expect(config.radio.udp.bind).toEqual({ host: '0.0.0.0', port: 1701 });
    expect(config.dataDir).toBe(dir);
    const message = problemsOf(() => loadConfig(dir as string, { mqtt: { port: 0 } }));
    expect(message).toContain(
      'mqtt.port: 0 is not allowed (set by a command-line flag): an integer 1..65535',
    );
  });
});

describe('config parser fuzz', () => {
  it('throws nothing but MaverickError on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })),
        (text) => {
          try {
            parseConfigText(text);
          } catch (err) {
            if (!isMaverickError(err)) throw err;
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('throws nothing but MaverickError on arbitrary TOML-shaped values', () => {
    const leaf = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.date());
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    const sections = fc.dictionary(
      fc.constantFrom('gateway', 'radio', 'mqtt', 'store', 'sealer', 'regional', 'metrics', 'log', 'other'),
      fc.dictionary(
        fc.constantFrom('id', 'region', 'backend', 'udp', 'serial', 'bind', 'port', 'path', 'level', 'links'),
        value,
      ),
    );
    fc.assert(
      fc.property(sections, (raw) => {
        try {
          validateConfig(raw, 'fuzz');
        } catch (err) {
          if (!isMaverickError(err)) throw err;
        }
      }),
      { numRuns: 600 },
    );
  });
});
