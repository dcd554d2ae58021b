/**
 * Secrets beside the config, never inside it: the local broker password lives
 * in its own file, mode 0600, so the TOML can be shared or printed safely.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { readSecretFile } from '../../kernel/keys/secret-file.js';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { configPath, resolveDataPath } from './paths.js';
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

/** The settings secretsInConfig reads: a validated config or the file's raw values. */
export interface ConfigUrls {
  regional: { url?: string | undefined };
  mqtt: { external_url?: string | undefined };
}

/** Which settings of maverick.toml carry a password (a URL with user:password@). */
export function secretsInConfig(config: ConfigUrls): string[] {
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
  const file = configPath(config.dataDir);
  const fields = secretsInConfig(urlsOfFile(file));
  if (fields.length === 0) return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new MaverickError(
    ErrorCode.KeyFilePermissions,
    `${file} holds a password (${fields.join(', ')}) and is readable by group or others (mode ${mode.toString(8)})`,
    { hint: `chmod 600 ${file}` },
  );
}

/**
 * The two URL settings of the file as written, read as TOML without the schema: the config was
 * validated when it was loaded, and the running gateway does not keep the validator loaded.
 */
function urlsOfFile(file: string): ConfigUrls {
  let raw: unknown;
  try {
    raw = parseToml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MaverickError(ErrorCode.ConfigParse, `cannot read ${file} again: ${describeError(err)}`, {
      hint: 'the file changed or went away after it was loaded; check it with maverick doctor',
      cause: err,
    });
  }
  const table = (value: unknown, key: string): Record<string, unknown> => {
    const inner = (value as Record<string, unknown> | undefined)?.[key];
    return inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
  };
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    regional: { url: text(table(raw, 'regional').url) },
    mqtt: { external_url: text(table(raw, 'mqtt').external_url) },
  };
}
