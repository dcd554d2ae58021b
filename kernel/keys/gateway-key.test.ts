import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ed25519Sign, toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import {
  generateGatewayKey,
  keysDir,
  listGatewayPublicKeys,
  loadGatewayKey,
  publicKeyFromPem,
  publicKeyPath,
  publicKeyToPem,
  rotateGatewayKey,
} from './gateway-key.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'maverick-keys-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function expectCode(promise: Promise<unknown>, code: number): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isMaverickError(err, code as never)).toBe(true);
  return err as Error;
}

describe('gateway key files', () => {
  it('generates a 0600 key, loads it back, and the kid is the SHA-256 prefix of the public key', async () => {
    const key = await generateGatewayKey(dataDir);
    expect(key.kid).toHaveLength(8);
    const file = join(keysDir(dataDir), `gateway-${toHex(key.kid)}.key`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadGatewayKey(dataDir);
    expect(toHex(loaded.secretKey)).toBe(toHex(key.secretKey));
    expect(toHex(loaded.publicKey)).toBe(toHex(key.publicKey));
    expect(loaded.createdAt).toBe(key.createdAt);
  });

  it('refuses to overwrite an existing key', async () => {
    await generateGatewayKey(dataDir);
    await expectCode(generateGatewayKey(dataDir), ErrorCode.KeyExists);
  });

  it('says to run `maverick init` when there is no key', async () => {
    const err = await expectCode(loadGatewayKey(dataDir), ErrorCode.KeyMissing);
    expect(err.message).toContain('maverick init');
  });

  it('refuses a group/other-readable key file and names the chmod', async () => {
    const key = await generateGatewayKey(dataDir);
    const file = join(keysDir(dataDir), `gateway-${toHex(key.kid)}.key`);
    await chmod(file, 0o640);
    const err = await expectCode(loadGatewayKey(dataDir), ErrorCode.KeyFilePermissions);
    expect(err.message).toContain(`chmod 600 ${file}`);
  });

  it('detects a key file swapped for another key', async () => {
    const key = await generateGatewayKey(dataDir);
    const other = await mkdtemp(join(tmpdir(), 'maverick-keys-other-'));
    try {
      const otherKey = await generateGatewayKey(other);
      const file = join(keysDir(dataDir), `gateway-${toHex(key.kid)}.key`);
      await writeFile(file, await readFile(join(keysDir(other), `gateway-${toHex(otherKey.kid)}.key`)));
      await expectCode(loadGatewayKey(dataDir), ErrorCode.KeyInvalid);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('rotation makes a new current key and keeps the old public key listed', async () => {
    const first = await generateGatewayKey(dataDir, new Date('2026-01-01T00:00:00Z'));
    const second = await rotateGatewayKey(dataDir, new Date('2026-06-01T00:00:00Z'));
    expect(toHex(second.kid)).not.toBe(toHex(first.kid));
    expect(toHex((await loadGatewayKey(dataDir)).kid)).toBe(toHex(second.kid));
    const listed = await listGatewayPublicKeys(dataDir);
    expect(listed.map((k) => [toHex(k.kid), k.current, k.createdAt])).toEqual([
      [toHex(first.kid), false, '2026-01-01T00:00:00.000Z'],
      [toHex(second.kid), true, '2026-06-01T00:00:00.000Z'],
    ]);
    expect(toHex(listed[0]!.publicKey)).toBe(toHex(first.publicKey));
  });

  it('rotate without a key says to init', async () => {
    await expectCode(rotateGatewayKey(dataDir), ErrorCode.KeyMissing);
  });
});

describe('PEM', () => {
  it('writes SubjectPublicKeyInfo that node:crypto (OpenSSL) reads and verifies with', async () => {
    const key = await generateGatewayKey(dataDir);
    const pem = await readFile(publicKeyPath(dataDir, toHex(key.kid)), 'utf8');
    expect(pem).toBe(publicKeyToPem(key.publicKey));
    const nodeKey = createPublicKey(pem);
    expect(nodeKey.asymmetricKeyType).toBe('ed25519');
    const message = new TextEncoder().encode('evidence');
    expect(nodeVerify(null, message, nodeKey, ed25519Sign(message, key.secretKey))).toBe(true);
    expect(toHex(publicKeyFromPem(pem))).toBe(toHex(key.publicKey));
  });

  it.skipIf(!hasOpenssl())('the openssl command reads the public and private key files', async () => {
    const key = await generateGatewayKey(dataDir);
    const kidHex = toHex(key.kid);
    const pub = execFileSync('openssl', [
      'pkey',
      '-pubin',
      '-in',
      publicKeyPath(dataDir, kidHex),
      '-noout',
      '-text',
    ]);
    expect(pub.toString()).toContain('ED25519');
    const derived = execFileSync('openssl', [
      'pkey',
      '-in',
      join(keysDir(dataDir), `gateway-${kidHex}.key`),
      '-pubout',
    ]);
    expect(derived.toString()).toBe(publicKeyToPem(key.publicKey));
  });

  it('rejects non-Ed25519 or mangled PEM with KeyInvalid', () => {
    expect(() => publicKeyFromPem('hello')).toThrow(/not a PEM/);
    const rsaLike = publicKeyToPem(new Uint8Array(32)).replace('MCowBQYDK2VwAyEA', 'MCowBQYDK2VxAyEA');
    expect(() => publicKeyFromPem(rsaLike)).toThrow(/not an Ed25519/);
  });
});

describe('PEM parsing of untrusted text', () => {
  it('random text and mangled PEM bodies only ever raise MaverickError', () => {
    const body = publicKeyToPem(new Uint8Array(32).fill(7));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(fc.nat({ max: body.length }), fc.string({ maxLength: 20 }))
            .map(([at, junk]) => body.slice(0, at) + junk + body.slice(at)),
        ),
        (text) => {
          try {
            expect(publicKeyFromPem(text)).toHaveLength(32);
          } catch (err) {
            expect(isMaverickError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}
