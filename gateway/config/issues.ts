/**
 * Turns zod issues into sentences a technician can act on: the field path as
 * written in the TOML file, the bad value, and what is allowed there.
 */
import type { z } from 'zod';

export interface ConfigProblem {
  /** Dotted path as in the file, e.g. "radio.udp.bind". */
  path: string;
  /** The offending value as written (undefined when missing). */
  value: unknown;
  /** One readable line. */
  text: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

function showValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

/** The keys an object schema accepts at `path`, looking through defaults, optionals and pipes. */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let node = s;
    for (let depth = 0; depth < 20; depth++) {
      const def = node.def as unknown as SchemaDef;
      const next = def.innerType ?? def.in;
      if (!next || def.type === 'object') break;
      node = next;
    }
    return node;
  };
  for (const part of path) {
    if (!cur) return [];
    const def = unwrap(cur).def as unknown as SchemaDef;
    cur = def.type === 'object' && def.shape ? def.shape[String(part)] : undefined;
  }
  if (!cur) return [];
  const def = unwrap(cur).def as unknown as SchemaDef;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = saved;
    }
  }
  return row[b.length];
}

function suggestion(key: string, allowed: string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))
    ? ` (did you mean "${best}"?)`
    : '';
}

/**
 * One problem per issue (one per unknown key). `fromFlags` holds the dotted
 * paths that a command-line flag set, so the message says where to look.
 */
export function describeIssues(
  schema: z.ZodType,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
  fromFlags: ReadonlySet<string> = new Set(),
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const path = formatPath([...issue.path, key]);
        const allowedText = allowed.length ? `; allowed here: ${allowed.join(', ')}` : '';
        problems.push({
          path,
          value: valueAt(input, [...issue.path, key]),
          text: `${path}: unknown key${suggestion(key, allowed)}${allowedText}`,
        });
      }
      continue;
    }
    const path = formatPath(issue.path);
    const value = valueAt(input, issue.path);
    const origin = fromFlags.has(path) ? ' (set by a command-line flag)' : '';
    const text =
      value === undefined
        ? `${path} is missing${origin}: ${issue.message}`
        : `${path}: ${showValue(value)} is not allowed${origin}: ${issue.message}`;
    problems.push({ path, value, text });
  }
  return problems;
}
