/**
 * Secrets beside the config, never inside it: the local broker password lives
 * in its own file, mode 0600, so the TOML can be shared or printed safely.
 */
import { randomBytes } from 'node:crypto';
import { readSecretFile } from '../../kernel/keys/secret-file.js';
import { resolveDataPath } from './load.js';
import type { MaverickConfig } from './schema.js';

export { readSecretFile, writeSecretFile } from '../../kernel/keys/secret-file.js';

/** A random password: 24 URL-safe characters (144 bits), easy to paste into a farm app. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The local broker's password, from `mqtt.password_file`. */
export function readMqttPassword(config: Pick<MaverickConfig, 'dataDir' | 'mqtt'>): string {
  return readSecretFile(resolveDataPath(config, config.mqtt.password_file));
}
