/**
 * Leaf validators for the config schema. Every one carries one human sentence
 * saying what is allowed, used as the zod message for every way the value can
 * be wrong, so an error always reads `path: value is not allowed: <allowed>`.
 */
import { z } from 'zod';

/** An integer in lo..hi (inclusive). */
export function intIn(lo: number, hi: number, unit = ''): z.ZodNumber {
  const allowed = `an integer ${lo}..${hi}${unit ? ` ${unit}` : ''}`;
  return z
    .number({ error: allowed })
    .int({ error: allowed })
    .min(lo, { error: allowed })
    .max(hi, { error: allowed });
}

/**
 * A region name as written by a person ("eu868", " EU868 ", "Eu868") in the
 * canonical upper case, so region names are case-insensitive everywhere.
 */
export function normaliseRegionName<T>(value: T): T | string {
  return typeof value === 'string' ? value.trim().toUpperCase() : value;
}

/** One of a fixed list of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

/** A string matching a pattern, with a sentence describing it. */
export function matching(pattern: RegExp, allowed: string): z.ZodString {
  return z.string({ error: allowed }).regex(pattern, { error: allowed });
}

/** A non-empty string (paths, names). */
export function nonEmpty(allowed: string): z.ZodString {
  return z.string({ error: allowed }).min(1, { error: allowed });
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits "HOST:PORT" (IPv6 in brackets: "[::1]:1700"). Returns undefined for
 * anything else. Exported for CLI flags that take the same form.
 */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const hostPortAllowed = 'HOST:PORT with a port 1..65535, e.g. "127.0.0.1:1700" or "[::1]:1700"';

/** "HOST:PORT" in the file, `{ host, port }` in the typed config. */
export const hostPortField = z
  .string({ error: hostPortAllowed })
  .refine((text) => parseHostPort(text) !== undefined, { error: hostPortAllowed })
  .transform((text) => parseHostPort(text) as HostPort);

/** A URL with one of the given schemes. */
export function urlWithScheme(schemes: readonly string[]): z.ZodString {
  const allowed = `a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  return z.string({ error: allowed }).refine(
    (text) => {
      try {
        const url = new URL(text);
        return schemes.includes(url.protocol.replace(/:$/, '')) && url.hostname.length > 0;
      } catch {
        return false;
      }
    },
    { error: allowed },
  );
}
