import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../proto/errors.js';
import { loadRegionalConfig, parseRegionalConfig } from './config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'maverick-regional-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function errorOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (isMaverickError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a MaverickError');
}

const worker = `
[store]
engine = "postgres"
url = "postgres://maverick@127.0.0.1:5432/maverick"
password_file = "pg-password"
pool_size = 4

[broker]
url = "mqtt://127.0.0.1:1883"
username = "maverick-regional"
password_file = "/ABS/broker-password"

[intake]
shared_group = "regional"
connections = 4
`;

describe('regional config file', () => {
  it('a worker on PostgreSQL and a shared broker: secrets read from their 0600 files, paths relative to the config', () => {
    write('pg-password', 'db-s3cret\n');
    write('broker-password', 'mq-s3cret\n');
    const file = write('regional.toml', worker.replace('/ABS', dir), 0o644);
    expect(loadRegionalConfig(file, { workerId: 'w2' })).toEqual({
      dataDir: dir,
      postgres: { url: 'postgres://maverick@127.0.0.1:5432/maverick', poolSize: 4, password: 'db-s3cret' },
      brokerUrl: 'mqtt://127.0.0.1:1883',
      credentials: { username: 'maverick-regional', password: 'mq-s3cret' },
      sharedGroup: 'regional',
      clientId: 'maverick-regional-w2',
      connections: 4,
      inFlight: 32,
    });
  });

  it('the embedded default: RxDB under data_dir, an embedded broker', () => {
    const file = write('regional.toml', '[store]\ndata_dir = "data"\n');
    expect(loadRegionalConfig(file)).toEqual({
      dataDir: join(dir, 'data'),
      embedded: { host: '127.0.0.1', port: 1884 },
      connections: 1,
      inFlight: 32,
    });
  });

  it('refuses a secret file others can read, naming the chmod', () => {
    write('pg-password', 'db-s3cret\n', 0o644);
    write('broker-password', 'mq-s3cret\n');
    const file = write('regional.toml', worker.replace('/ABS', dir));
    const err = errorOf(() => loadRegionalConfig(file, { workerId: 'w1' }));
    expect(err.code).toBe(ErrorCode.KeyFilePermissions);
    expect(err.message).toMatch(/pg-password is accessible by group or others/);
  });

  it('names every bad field: a password in a URL, an unknown key, a missing url, a half credential', () => {
    const err = errorOf(() =>
      parseRegionalConfig(
        [
          '[store]',
          'engine = "postgres"',
          '[broker]',
          'url = "mqtt://u:pw@host:1883"',
          'username = "x"',
          '[intake]',
          'conections = 2',
        ].join('\n'),
        'regional.toml',
      ),
    );
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.message).toContain('broker.url: must not carry a password: use password_file');
    expect(err.message).toMatch(/intake: .*conections/);
    expect(err.message).toContain('store.url: is required when engine = "postgres"');
    expect(err.message).toContain('broker: give both username and password_file, or neither');
  });

  it('a shared intake needs a worker id (from the file or --worker-id) and an external broker', () => {
    const file = write(
      'regional.toml',
      '[store]\ndata_dir = "d"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\n[intake]\nshared_group = "g"\n',
    );
    expect(errorOf(() => loadRegionalConfig(file)).message).toMatch(
      /intake.worker_id: is required with shared_group/,
    );
    expect(loadRegionalConfig(file, { workerId: 'a' }).clientId).toBe('maverick-regional-a');
    const noBroker = errorOf(() =>
      parseRegionalConfig('[store]\ndata_dir = "d"\n[intake]\nshared_group = "g"\n', 'r.toml'),
    );
    expect(noBroker.message).toContain('broker.url: is required with shared_group');
  });

  it('[directip]: IMEIs of gateways, an allowlist beyond loopback; bad IMEIs and a missing allowlist are named', () => {
    const file = write(
      'regional.toml',
      [
        '[store]',
        'data_dir = "d"',
        '[directip]',
        'host = "0.0.0.0"',
        'allow_from = ["12.47.179.11"]',
        'mt_host = "12.47.179.12"',
        '[directip.imeis]',
        '"300234010753370" = "farm-17"',
      ].join('\n'),
    );
    expect(loadRegionalConfig(file).directip).toEqual({
      host: '0.0.0.0',
      port: 10800,
      allowFrom: ['12.47.179.11'],
      confirm: true,
      imeis: { '300234010753370': 'farm-17' },
      mt: { host: '12.47.179.12', port: 10800 },
    });
    const err = errorOf(() =>
      parseRegionalConfig(
        [
          '[store]',
          'data_dir = "d"',
          '[directip]',
          'host = "0.0.0.0"',
          '[directip.imeis]',
          '"3002" = "farm 17"',
        ].join('\n'),
        'r.toml',
      ),
    );
    expect(err.message).toContain('directip.imeis.3002: an IMEI is 15 digits');
    expect(err.message).toContain('directip.imeis.3002: use 1-64 letters');
    const open = errorOf(() =>
      parseRegionalConfig('[store]\ndata_dir = "d"\n[directip]\nhost = "0.0.0.0"\n', 'r.toml'),
    );
    expect(open.message).toContain('directip.allow_from: is required when host = "0.0.0.0"');
  });

  it('[broker] gateway_password_file confines gateways on the embedded broker only', () => {
    const file = write(
      'regional.toml',
      '[store]\ndata_dir = "d"\n[broker]\ngateway_password_file = "broker/passwd"\n',
    );
    expect(loadRegionalConfig(file).embedded).toEqual({
      host: '127.0.0.1',
      port: 1884,
      gatewayPasswordFile: join(dir, 'broker', 'passwd'),
    });
    const external = errorOf(() =>
      parseRegionalConfig(
        '[store]\ndata_dir = "d"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\ngateway_password_file = "p"\n',
        'r.toml',
      ),
    );
    expect(external.message).toContain('broker.gateway_password_file: is for the embedded broker');
  });

  it('TOML syntax errors give the line; a missing file says which', () => {
    expect(errorOf(() => parseRegionalConfig('[store\n', 'r.toml')).message).toMatch(
      /^r\.toml:1:\d+: TOML syntax error/,
    );
    const missing = errorOf(() => loadRegionalConfig(join(dir, 'absent.toml')));
    expect(missing.code).toBe(ErrorCode.ConfigMissing);
    expect(missing.message).toContain('absent.toml');
  });
});
