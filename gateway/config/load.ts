/**
 * Reading `<dataDir>/maverick.toml`: TOML syntax (smol-toml, TOML 1.0), then
 * command-line overrides merged on top, then the schema. Every failure is a
 * MaverickError saying which file, which line or which field, and what to do.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { describeIssues } from './issues.js';
import { CONFIG_FILE_NAME, configPath } from './paths.js';
import { type ConfigInput, configSchema, type FileConfig, type MaverickConfig } from './schema.js';

export { CONFIG_FILE_NAME, configPath, resolveDataPath } from './paths.js';

/** A config file is a page of text; anything this big is not one. */
const MAX_CONFIG_BYTES = 256 * 1024;

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Values from command-line flags, shaped like the file; they win over it. */
export type ConfigOverrides = DeepPartial<ConfigInput>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
    return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep merge of plain tables; arrays and scalars replace. Keys are defined as
 * own properties (never assigned), so a `__proto__` key in a file stays a key
 * the strict schema rejects instead of becoming a prototype.
 */
export function mergeOverrides(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const merged = mergeOverrides(out[key], value);
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Dotted paths of every leaf an override sets (to say "set by a flag" in errors). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (!isPlainObject(value)) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([key, v]) =>
    v === undefined ? [] : leafPaths(v, prefix ? `${prefix}.${key}` : key),
  );
}

/** Validates an already-parsed table (plus overrides). Throws ConfigInvalid naming every bad field. */
export function validateConfig(raw: unknown, source: string, overrides: ConfigOverrides = {}): FileConfig {
  const merged = mergeOverrides(raw, overrides);
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const problems = describeIssues(configSchema, merged, result.error.issues, new Set(leafPaths(overrides)));
  throw new MaverickError(
    ErrorCode.ConfigInvalid,
    `invalid Maverick config in ${source}:\n${problems.map((p) => `  - ${p.text}`).join('\n')}`,
    {
      hint: `edit ${source} (every key is explained in the file maverick init writes) and try again`,
      context: { source, problems: problems.map(({ path, text }) => ({ path, text })) },
    },
  );
}

/** Parses TOML text and validates it. Never throws anything but MaverickError. */
export function parseConfigText(
  text: string,
  source = CONFIG_FILE_NAME,
  overrides: ConfigOverrides = {},
): FileConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const firstLine = err.message.split('\n')[0];
      throw new MaverickError(
        ErrorCode.ConfigParse,
        `${source}:${err.line}:${err.column}: TOML syntax error: ${firstLine}`,
        {
          hint: `fix line ${err.line}, column ${err.column} of ${source}`,
          context: { line: err.line, column: err.column },
        },
      );
    }
    // smol-toml only throws TomlError for bad input; anything else (e.g. stack
    // overflow on absurd nesting) is still the file's fault, not a crash.
    throw new MaverickError(ErrorCode.ConfigParse, `${source}: cannot parse TOML: ${String(err)}`, {
      cause: err,
    });
  }
  return validateConfig(raw, source, overrides);
}

/** Reads, parses and validates `<dataDir>/maverick.toml`; `overrides` (from flags) win over the file. */
export function loadConfig(dataDir: string, overrides: ConfigOverrides = {}): MaverickConfig {
  const dir = resolve(dataDir);
  const file = configPath(dir);
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new MaverickError(
        ErrorCode.ConfigParse,
        `${file} is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES}`,
        {
          hint: 'is this the right file?',
        },
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof MaverickError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new MaverickError(ErrorCode.ConfigMissing, `no config file at ${file}`, {
        hint: `run maverick init --data-dir ${dir}`,
        context: { file },
      });
    }
    throw new MaverickError(ErrorCode.ConfigMissing, `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'check the file permissions (the maverick user must be able to read it)',
      cause: err,
    });
  }
  return { ...parseConfigText(text, file, overrides), dataDir: dir };
}
