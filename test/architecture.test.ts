/**
 * The dependency rule of DESIGN.md, enforced: a forbidden import between the
 * top-level folders fails the test suite (and so CI).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const ours = ['proto', 'kernel', 'gateway', 'regional', 'simulator', 'cli', 'test', 'bench'] as const;
type Folder = (typeof ours)[number];

/** Which of our folders each folder may import (itself always allowed). */
const allowed: Record<Folder, readonly Folder[]> = {
  proto: [],
  kernel: ['proto'],
  gateway: ['proto', 'kernel'],
  regional: ['proto', 'kernel'],
  simulator: ['proto'],
  cli: ['proto', 'kernel', 'gateway', 'regional', 'simulator'],
  test: ['proto', 'kernel', 'gateway', 'regional', 'simulator', 'cli'],
  bench: ['proto', 'kernel', 'gateway', 'regional', 'simulator', 'cli', 'test'],
};

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function violations(): string[] {
  const found: string[] = [];
  for (const folder of ours) {
    for (const file of sourceFiles(join(root, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(importPattern)) {
        const spec = m[1] ?? m[2];
        if (!spec?.startsWith('.')) continue;
        const target = relative(root, resolve(file, '..', spec)).split(/[\\/]/)[0] as Folder;
        if (!ours.includes(target) || target === folder) continue;
        // Unit tests beside the code may drive it with the simulator and shared test helpers.
        const isTest = /\.test\.ts$/.test(file) || file.includes('.test-helpers.');
        if (isTest && (target === 'simulator' || target === 'test')) continue;
        if (!allowed[folder].includes(target)) {
          found.push(`${relative(root, file)} imports ${spec} (${folder}/ may not import ${target}/)`);
        }
      }
    }
  }
  return found;
}

describe('dependency rule (DESIGN.md layout)', () => {
  it('no folder imports one it may not', () => {
    expect(violations()).toEqual([]);
  });

  it('the checker catches a forbidden import', () => {
    // Guard against a checker that can never fail: the pattern must see a proto -> kernel import.
    const sample = "import { x } from '../kernel/thing.js';";
    const specs = [...sample.matchAll(importPattern)].map((m) => m[1]);
    expect(specs).toEqual(['../kernel/thing.js']);
    const target = relative(root, resolve(root, 'proto', 'file.ts', '..', specs[0]!)).split(/[\\/]/)[0];
    expect(target).toBe('kernel');
    expect(allowed.proto.includes(target as Folder)).toBe(false);
  });
});
