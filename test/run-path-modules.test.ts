/**
 * What `maverick run` keeps loaded. An ES module never unloads, and V8 keeps
 * each one's source text and compiled code for the process's whole life, so a
 * package the gateway uses once (the config validator) or never (the serial
 * stack on a UDP gateway, the mqtt.js client beside the embedded broker, the
 * console API nobody opened) is resident memory on a Pi for nothing. Those are
 * loaded on use (dynamic import) or on a thread of their own; this test follows
 * every static value import from the run command and the gateway's composition
 * root and fails, naming the chain, when one of them is reached again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Packages the running gateway must only load when its configuration or a request needs them. */
const LOADED_ON_USE = ['zod', 'mqtt', 'serialport', '@serialport/stream', '@serialport/parser-readline'];

/** `import … from '…'` and `export … from '…'` that load a module (not `import type`, not `import()`). */
const STATIC_IMPORT = /^\s*(import|export)\s+(?!type\s)(?:[\s\S]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(STATIC_IMPORT)) {
    const clause = match[0];
    // `import { type A, type B } from` loads nothing either (TypeScript drops it).
    const names = /\{([^}]*)\}/.exec(clause)?.[1];
    const onlyTypes =
      names !== undefined &&
      !/^\s*(import|export)\s+[\w$]+\s*,/.test(clause) &&
      names.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '));
    if (!onlyTypes) found.push(match[2] as string);
  }
  return found;
}

/** The source file a relative specifier names (`./x.js` is `./x.ts` in the sources). */
function sourceOf(from: string, specifier: string): string | undefined {
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.cjs$/, '.cts'), target]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Every package reached from `entry` by static imports, with the chain of files that reaches it. */
function packagesReached(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) {
        const next = sourceOf(file, specifier);
        if (next) visit(next, [...chain, relative(root, next)]);
      } else if (!specifier.startsWith('node:') && !reached.has(specifier)) {
        reached.set(specifier, chain);
      }
    }
  };
  visit(resolve(root, entry), [entry]);
  return reached;
}

describe('maverick run loads on use what it rarely or never needs', () => {
  for (const entry of ['cli/commands/run.ts', 'gateway/app.ts']) {
    it(`${entry} reaches none of ${LOADED_ON_USE.join(', ')} by a static import`, () => {
      const reached = packagesReached(entry);
      // The walk itself works: the gateway's own dependencies are found.
      if (entry === 'gateway/app.ts')
        expect([...reached.keys()]).toEqual(expect.arrayContaining(['rxdb', 'aedes']));
      const offenders = LOADED_ON_USE.filter((name) => reached.has(name)).map(
        (name) => `${name} via ${(reached.get(name) as string[]).join(' > ')}`,
      );
      expect(offenders).toEqual([]);
    });
  }

  it('the walk sees a static import of a listed package (the check can fail)', () => {
    // gateway/config/load.ts validates with zod: it must be found there.
    expect(packagesReached('gateway/config/load.ts').has('zod')).toBe(true);
    expect(packagesReached('gateway/radio/serial-port-session.ts').has('serialport')).toBe(true);
  });
});
