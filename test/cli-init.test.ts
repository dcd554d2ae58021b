/** `maverick init` and `maverick keys`, run as a user would (a real process per command). */
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../gateway/config/index.js';
import { readConsolePassword } from '../gateway/console/password.js';
import { runCli } from './helpers/cli.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'maverick-cli-init-'));
  dir = join(root, 'gw');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const secretKeyFiles = () => readdirSync(join(dir, 'keys')).filter((f) => f.endsWith('.key'));

describe('maverick init', () => {
  it('creates the data dir, a valid commented config, a 0600 password and the key pair', async () => {
    const r = await runCli([
      'init',
      '--data-dir',
      dir,
      '--region',
      'US915',
      '--gateway-id',
      'B827EBFFFE123456',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(dir)).toBe(0o700);
    const password = /shown only this once[^\n]*\n\s+(\S+)/.exec(r.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(readFileSync(join(dir, 'mqtt-password'), 'utf8')).toBe(`${password}\n`);
    expect(mode(join(dir, 'mqtt-password'))).toBe(0o600);
    // The console password is shown once; only its scrypt hash is stored, 0600, and it verifies.
    const consolePassword = /Console password[^\n]*\n\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(consolePassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const stored = readFileSync(join(dir, 'console-password'), 'utf8');
    expect(stored).toMatch(/^scrypt\$/);
    expect(stored).not.toContain(consolePassword);
    expect(mode(join(dir, 'console-password'))).toBe(0o600);
    const verifier = readConsolePassword(dir);
    expect(await verifier.verify(consolePassword)).toBe(true);
    expect(await verifier.verify(`${consolePassword}x`)).toBe(false);
    expect(secretKeyFiles()).toHaveLength(1);
    expect(mode(join(dir, 'keys', secretKeyFiles()[0]))).toBe(0o600);
    const config = loadConfig(dir);
    expect(config.gateway).toMatchObject({ id: 'b827ebfffe123456', region: 'US915' });
    expect(readFileSync(join(dir, 'maverick.toml'), 'utf8')).toMatch(/^# .*\n/);
    expect(r.stdout).toContain(`maverick doctor --data-dir ${dir}`);
  });

  it('refuses to overwrite an existing setup without --force and changes nothing', async () => {
    expect((await runCli(['init', '--data-dir', dir])).code).toBe(0);
    const before = [readFileSync(join(dir, 'maverick.toml')), readFileSync(join(dir, 'mqtt-password'))];
    const again = await runCli(['init', '--data-dir', dir, '--region', 'US915']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SetupExists');
    expect(again.stderr).toContain('already holds a Maverick setup');
    expect(again.stderr).toContain('--force');
    expect([readFileSync(join(dir, 'maverick.toml')), readFileSync(join(dir, 'mqtt-password'))]).toEqual(
      before,
    );
  });

  it('--force rewrites config and password but keeps the gateway key', async () => {
    expect((await runCli(['init', '--data-dir', dir])).code).toBe(0);
    const keyBefore = secretKeyFiles();
    const r = await runCli([
      'init',
      '--data-dir',
      dir,
      '--force',
      '--region',
      'US915',
      '--mqtt-username',
      'farm',
      '--mqtt-password',
      'given-secret',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('shown only this once');
    expect(r.stdout).not.toContain('given-secret');
    expect(r.stdout).toContain('existing key kept');
    expect(secretKeyFiles()).toEqual(keyBefore);
    expect(readFileSync(join(dir, 'mqtt-password'), 'utf8')).toBe('given-secret\n');
    expect(loadConfig(dir)).toMatchObject({ gateway: { region: 'US915' }, mqtt: { username: 'farm' } });
  });

  it('rejects a bad flag by field before writing anything', async () => {
    const r = await runCli(['init', '--data-dir', dir, '--gateway-id', 'xyz', '--region', 'EU433']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gateway.id: "xyz" is not allowed: 16 hexadecimal characters');
    expect(r.stderr).toContain('gateway.region: "EU433" is not allowed: one of "EU868", "US915"');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('maverick init --country', () => {
  const gw = ['--gateway-id', 'B827EBFFFE123456'];

  it("proposes the country's plan from RP002's table and says when there are several", async () => {
    const brazil = await runCli(['init', '--data-dir', dir, ...gw, '--country', 'br']);
    expect(brazil.code, brazil.stderr).toBe(0);
    expect(brazil.stdout).toContain('BR uses AU915');
    expect(loadConfig(dir).gateway.region).toBe('AU915');

    const nicaragua = await runCli(['init', '--data-dir', join(root, 'ni'), ...gw, '--country', 'NI']);
    expect(nicaragua.stdout).toContain('NI allows several plans: AU915, US915. Using AU915');
    expect(loadConfig(join(root, 'ni')).gateway.region).toBe('AU915');
  });

  it('lets --region (any case) override, warning when the country does not list it', async () => {
    const r = await runCli(['init', '--data-dir', dir, ...gw, '--country', 'NI', '--region', 'us915-sb1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('NI allows AU915, US915; using --region us915-sb1');
    expect(loadConfig(dir).gateway.region).toBe('US915-SB1');
    const odd = await runCli([
      'init',
      '--data-dir',
      join(root, 'id'),
      ...gw,
      '--country',
      'ID',
      '--region',
      'EU868',
    ]);
    expect(odd.stdout).toContain('warning: ID lists AS923-2 in RP002, not EU868');
  });

  it('refuses a country it does not know, changing nothing', async () => {
    const r = await runCli(['init', '--data-dir', dir, ...gw, '--country', 'ZZ']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"ZZ" is not in Maverick's RP002 country table/);
    expect(r.stderr).toMatch(/--region/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('maverick keys', () => {
  it('shows, rotates and exports the public key as PEM', async () => {
    expect((await runCli(['init', '--data-dir', dir])).code).toBe(0);
    const first = await runCli(['keys', 'show', '--data-dir', dir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const [only] = JSON.parse(first.stdout) as { kid: string; current: boolean; publicKey: string }[];
    expect(only.current).toBe(true);

    const rotated = await runCli(['keys', 'rotate', '--data-dir', dir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`(was ${only.kid})`);
    const [show, exported] = await Promise.all([
      runCli(['keys', 'show', '--data-dir', dir, '--json']),
      runCli(['keys', 'export-public', '--data-dir', dir, '--out', join(root, 'gw.pem')]),
    ]);
    const keys = JSON.parse(show.stdout) as { kid: string; current: boolean; publicKey: string }[];
    expect(keys).toHaveLength(2);
    expect(keys.filter((k) => k.current).map((k) => k.kid)).not.toContain(only.kid);
    const current = keys.find((k) => k.current) as { publicKey: string };

    expect(exported.code, exported.stderr).toBe(0);
    const key = createPublicKey(readFileSync(join(root, 'gw.pem'), 'utf8'));
    expect(key.asymmetricKeyType).toBe('ed25519');
    const raw = key.export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(Buffer.from(raw).toString('hex')).toBe(current.publicKey);
  });

  it('says to run init when there is no key', async () => {
    const r = await runCli(['keys', 'show', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run maverick init --data-dir`);
  });
});
