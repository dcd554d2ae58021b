/**
 * The gateway's Ed25519 signing key on disk, under `<dataDir>/keys/`:
 *   gateway-<kidhex>.key   PKCS#8 PEM secret key, mode 0600 from birth
 *   gateway-<kidhex>.pub   SubjectPublicKeyInfo PEM public key
 *   keyring.json           { version, current, keys: [{ kid, createdAt }] }
 * Rotation adds a key and moves `current`; old public keys stay listed so
 * bundles they signed remain verifiable for the 5 years EUDR keeps records.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyIdOf, publicKeyOf, randomSecretKey, toHex } from '../../proto/bundle/ed25519.js';
import { publicKeyFromPem, publicKeyToPem, secretKeyToPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { writeFileAtomic, writeFileExclusive } from './atomic-file.js';
import { isNotFound, readSecretKeyFile } from './secret-key-file.js';

export { publicKeyFromPem, publicKeyToPem } from '../../proto/bundle/pem.js';

export interface GatewayKey {
  /** First 8 bytes of SHA-256(publicKey): the COSE `kid`. */
  kid: Uint8Array;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface GatewayPublicKeyEntry {
  kid: Uint8Array;
  publicKey: Uint8Array;
  createdAt: string;
  current: boolean;
}

interface KeyringFile {
  version: 1;
  current: string;
  keys: { kid: string; createdAt: string }[];
}

export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

function secretKeyPath(dataDir: string, kidHex: string): string {
  return join(keysDir(dataDir), `gateway-${kidHex}.key`);
}

export function publicKeyPath(dataDir: string, kidHex: string): string {
  return join(keysDir(dataDir), `gateway-${kidHex}.pub`);
}

function keyringPath(dataDir: string): string {
  return join(keysDir(dataDir), 'keyring.json');
}

async function readKeyring(dataDir: string): Promise<KeyringFile | undefined> {
  let text: string;
  try {
    text = await readFile(keyringPath(dataDir), 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MaverickError(ErrorCode.KeyInvalid, `${keyringPath(dataDir)} is not valid JSON`, {
      cause: err,
    });
  }
  const ring = parsed as Partial<KeyringFile>;
  if (
    ring?.version !== 1 ||
    typeof ring.current !== 'string' ||
    !Array.isArray(ring.keys) ||
    !ring.keys.every((k) => typeof k?.kid === 'string' && typeof k.createdAt === 'string')
  ) {
    throw new MaverickError(ErrorCode.KeyInvalid, `${keyringPath(dataDir)} has an unexpected shape`, {
      hint: 'restore it from backup; key files gateway-*.key/.pub are untouched',
    });
  }
  return ring as KeyringFile;
}

async function createKey(dataDir: string, now: Date): Promise<GatewayKey> {
  await mkdir(keysDir(dataDir), { recursive: true, mode: 0o700 });
  const secretKey = randomSecretKey();
  const publicKey = publicKeyOf(secretKey);
  const kid = keyIdOf(publicKey);
  const kidHex = toHex(kid);
  const createdAt = now.toISOString();
  try {
    await writeFileExclusive(secretKeyPath(dataDir, kidHex), secretKeyToPem(secretKey), 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new MaverickError(
        ErrorCode.KeyExists,
        `key file ${secretKeyPath(dataDir, kidHex)} already exists`,
      );
    }
    throw err;
  }
  await writeFileAtomic(publicKeyPath(dataDir, kidHex), publicKeyToPem(publicKey), 0o644);
  return { kid, publicKey, secretKey, createdAt };
}

async function addToKeyring(dataDir: string, ring: KeyringFile | undefined, key: GatewayKey): Promise<void> {
  const kidHex = toHex(key.kid);
  const next: KeyringFile = {
    version: 1,
    current: kidHex,
    keys: [...(ring?.keys ?? []), { kid: kidHex, createdAt: key.createdAt }],
  };
  await writeFileAtomic(keyringPath(dataDir), `${JSON.stringify(next, null, 2)}\n`, 0o644);
}

/** Creates the first gateway key. Refuses when one exists (use rotateGatewayKey). */
export async function generateGatewayKey(dataDir: string, now: Date = new Date()): Promise<GatewayKey> {
  const ring = await readKeyring(dataDir);
  if (ring) {
    throw new MaverickError(ErrorCode.KeyExists, `a gateway key already exists in ${keysDir(dataDir)}`, {
      hint: 'use `maverick keys rotate` to replace it; the old public key stays verifiable',
    });
  }
  const key = await createKey(dataDir, now);
  await addToKeyring(dataDir, undefined, key);
  return key;
}

/** Makes a new current key; earlier keys stay in the keyring (public halves verifiable). */
export async function rotateGatewayKey(dataDir: string, now: Date = new Date()): Promise<GatewayKey> {
  const ring = await readKeyring(dataDir);
  if (!ring) {
    throw new MaverickError(ErrorCode.KeyMissing, `no gateway key in ${keysDir(dataDir)} to rotate`, {
      hint: 'run `maverick init` first',
    });
  }
  const key = await createKey(dataDir, now);
  await addToKeyring(dataDir, ring, key);
  return key;
}

/** Loads the current secret key; refuses a key file that group or others can read. */
export async function loadGatewayKey(dataDir: string): Promise<GatewayKey> {
  const ring = await readKeyring(dataDir);
  const entry = ring?.keys.find((k) => k.kid === ring.current);
  if (!ring || !entry) {
    throw new MaverickError(ErrorCode.KeyMissing, `no gateway key in ${keysDir(dataDir)}`, {
      hint: 'run `maverick init` to create one',
    });
  }
  const path = secretKeyPath(dataDir, entry.kid);
  const secretKey = await readSecretKeyFile(
    path,
    'gateway key',
    'restore it from backup, or run `maverick keys rotate` to make a new key',
  );
  const publicKey = publicKeyOf(secretKey);
  const kid = keyIdOf(publicKey);
  if (toHex(kid) !== entry.kid) {
    throw new MaverickError(ErrorCode.KeyInvalid, `key file ${path} does not hold the key its name says`, {
      hint: 'the key file was replaced or corrupted; restore it from backup',
    });
  }
  return { kid, publicKey, secretKey, createdAt: entry.createdAt };
}

/** Every public key this gateway has had, oldest first; `current` marks the signing key. */
export async function listGatewayPublicKeys(dataDir: string): Promise<GatewayPublicKeyEntry[]> {
  const ring = await readKeyring(dataDir);
  if (!ring) return [];
  const out: GatewayPublicKeyEntry[] = [];
  for (const entry of ring.keys) {
    const publicKey = publicKeyFromPem(await readFile(publicKeyPath(dataDir, entry.kid), 'utf8'));
    if (toHex(keyIdOf(publicKey)) !== entry.kid) {
      throw new MaverickError(
        ErrorCode.KeyInvalid,
        `public key file for ${entry.kid} does not match its kid`,
      );
    }
    out.push({
      kid: keyIdOf(publicKey),
      publicKey,
      createdAt: entry.createdAt,
      current: entry.kid === ring.current,
    });
  }
  return out;
}
