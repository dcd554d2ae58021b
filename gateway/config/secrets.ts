/**
 * Secrets beside the config, never inside it: the local broker password lives
 * in its own file, mode 0600, so the TOML can be shared or printed safely.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { readSecretFile } from '../../kernel/keys/secret-file.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { configPath, loadConfig, resolveDataPath } from './load.js';
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

/** Which settings of maverick.toml carry a password (a URL with user:password@). */
export function secretsInConfig(config: Pick<MaverickConfig, 'regional' | 'mqtt'>): string[] {
  const fields: Array<[string, string | undefined]> = [
    ['regional.url', config.regional.url],
    ['mqtt.external_url', config.mqtt.external_url],
  ];
  return fields.filter(([, url]) => url !== undefined && hasPassword(url)).map(([field]) => field);
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/** A maverick.toml holding a password must be 0600, like every other secret file. */
export function refuseReadableConfigWithSecrets(config: MaverickConfig): void {
  // The file as written, without command-line overrides (a --regional-url is not in the file).
  const fields = secretsInConfig(loadConfig(config.dataDir));
  if (fields.length === 0) return;
  const file = configPath(config.dataDir);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new MaverickError(
    ErrorCode.KeyFilePermissions,
    `${file} holds a password (${fields.join(', ')}) and is readable by group or others (mode ${mode.toString(8)})`,
    { hint: `chmod 600 ${file}` },
  );
}
