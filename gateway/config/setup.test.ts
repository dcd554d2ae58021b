import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { publicKeyToPem } from '../../proto/bundle/pem.js';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import {
  defaultGatewayId,
  initSetup,
  loadConfig,
  readMqttPassword,
  readSecretFile,
  writeSecretFile,
} from './index.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'maverick-setup-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('initSetup', () => {
  it('writes a loadable config, a 0600 password and a key, in a 0700 directory', async () => {
    const dataDir = join(root, 'a', 'gw');
    const result = await initSetup({ dataDir, region: 'US915', mqttUsername: 'farm' });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(result.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const config = loadConfig(dataDir);
    expect(config).toMatchObject({
      gateway: { region: 'US915', id: result.config.gateway.id },
      mqtt: { username: 'farm' },
    });
    expect(readMqttPassword(config)).toBe(result.generatedPassword);
    expect(result.keyCreated).toBe(true);
    expect(result.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("wires the regional node's public key: copied into the data dir and named by regional.node_key", async () => {
    const pem = publicKeyToPem(publicKeyOf(randomSecretKey()));
    const source = join(root, 'regional-node.pub');
    writeFileSync(source, pem);
    const dataDir = join(root, 'gw');
    await initSetup({ dataDir, regionalNodeKey: source });
    const config = loadConfig(dataDir);
    expect(config.regional.node_key).toBe('regional-node.pub');
    expect(readFileSync(join(dataDir, 'regional-node.pub'), 'utf8')).toBe(pem);

    writeFileSync(source, 'not a key');
    const other = join(root, 'gw2');
    await expect(initSetup({ dataDir: other, regionalNodeKey: source })).rejects.toSatisfy((err: unknown) =>
      isMaverickError(err),
    );
    expect(existsSync(other)).toBe(false); // refused before anything was written
  });

  it('refuses an existing setup, and --force keeps the key', async () => {
    const dataDir = join(root, 'gw');
    const first = await initSetup({ dataDir, mqttPassword: 'one' });
    await expect(initSetup({ dataDir })).rejects.toSatisfy((err: unknown) =>
      isMaverickError(err, ErrorCode.SetupExists),
    );
    expect(readFileSync(join(dataDir, 'mqtt-password'), 'utf8')).toBe('one\n');
    const second = await initSetup({ dataDir, mqttPassword: 'two', force: true });
    expect(second).toMatchObject({ keyId: first.keyId, keyCreated: false });
    expect(second.generatedPassword).toBeUndefined();
    expect(readFileSync(join(dataDir, 'mqtt-password'), 'utf8')).toBe('two\n');
  });

  it('validates before touching the disk', async () => {
    const dataDir = join(root, 'gw');
    await expect(initSetup({ dataDir, gatewayId: 'nothex' })).rejects.toThrow(
      /gateway\.id: "nothex" is not allowed/,
    );
    await expect(initSetup({ dataDir, mqttPassword: 'two\nlines' })).rejects.toThrow(/one non-empty line/);
    expect(existsSync(join(dataDir, 'maverick.toml'))).toBe(false);
  });

  it('derives a 16-hex gateway id', () => {
    expect(defaultGatewayId()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('secret files', () => {
  it('refuses a password file others can read, and an empty one', async () => {
    const file = join(root, 'secret');
    await writeSecretFile(file, 's3cret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readSecretFile(file)).toBe('s3cret');
    chmodSync(file, 0o640);
    expect(() => readSecretFile(file)).toThrow(/chmod 600/);
    writeFileSync(file, '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(() => readSecretFile(file)).toThrow(/is empty/);
    expect(() => readSecretFile(join(root, 'absent'))).toThrow(/cannot read secret file/);
  });
});
