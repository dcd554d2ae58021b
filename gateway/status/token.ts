/**
 * The status server's action token: a random secret in `<dataDir>/status-token`
 * (mode 0600), made by `maverick run` when missing. Only a process that can read
 * this data directory may POST /seal, /commit or /statement to the gateway running from it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSecretFile, writeSecretFile } from '../config/secrets.js';

export const STATUS_TOKEN_FILE = 'status-token';

export function statusTokenPath(dataDir: string): string {
  return join(dataDir, STATUS_TOKEN_FILE);
}

/** The token, made (256 random bits) the first time. */
export async function ensureStatusToken(dataDir: string): Promise<string> {
  const path = statusTokenPath(dataDir);
  if (!existsSync(path)) await writeSecretFile(path, randomBytes(32).toString('base64url'));
  return readSecretFile(path);
}

/** The token, or undefined when this data directory never ran a gateway. Refuses a file others can read. */
export function readStatusToken(dataDir: string): string | undefined {
  const path = statusTokenPath(dataDir);
  return existsSync(path) ? readSecretFile(path) : undefined;
}
