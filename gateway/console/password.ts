/**
 * The console's admin password, kept as a scrypt hash in its own 0600 file
 * (`console-password` in the data directory): the plain password is shown
 * once by `maverick init` and never stored.
 *
 * File format, one line: `scrypt$N$r$p$<salt base64>$<hash base64>`, so the
 * cost can be raised later without breaking existing files.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { readSecretFile, writeSecretFile } from '../config/secrets.js';

export const CONSOLE_PASSWORD_FILE = 'console-password';
/** scrypt cost: N=2^15, r=8 (≈32 MiB, ~100 ms on a Pi 4): slow enough to make guessing expensive. */
const COST = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

export function consolePasswordPath(dataDir: string): string {
  return join(dataDir, CONSOLE_PASSWORD_FILE);
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { ...cost, maxmem: 128 * cost.N * cost.r * 2 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) {
    throw new MaverickError(ErrorCode.CliUsage, 'the console password must have at least 8 characters', {
      hint: 'pick a longer password, or leave it out to get a random one',
    });
  }
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Writes the hash of `password` to the data directory's console password file (mode 0600). */
export async function writeConsolePassword(dataDir: string, password: string): Promise<string> {
  const path = consolePasswordPath(dataDir);
  await writeSecretFile(path, await hashPassword(password));
  return path;
}

export interface PasswordVerifier {
  verify(password: string): Promise<boolean>;
}

/** Parses a stored hash line; a malformed file is refused with the fix. */
export function parsePasswordHash(line: string, path = CONSOLE_PASSWORD_FILE): PasswordVerifier {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line.trim());
  const N = Number(m?.[1]);
  const r = Number(m?.[2]);
  const p = Number(m?.[3]);
  if (!m || !Number.isInteger(Math.log2(N)) || N < 2 || N > 1 << 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new MaverickError(ErrorCode.SecretMissing, `${path} is not a console password hash`, {
      hint: 'run `maverick init --force --data-dir …` to set a new console password',
    });
  }
  const salt = Buffer.from(m[4] as string, 'base64');
  const expected = Buffer.from(m[5] as string, 'base64');
  return {
    async verify(password: string): Promise<boolean> {
      if (typeof password !== 'string' || password.length === 0 || password.length > 1024) return false;
      const key = await derive(password, salt, { N, r, p });
      return key.length === expected.length && timingSafeEqual(key, expected);
    },
  };
}

/** Reads the data directory's password file (refusing one others can read). */
export function readConsolePassword(dataDir: string): PasswordVerifier {
  const path = consolePasswordPath(dataDir);
  return parsePasswordHash(readSecretFile(path), path);
}
