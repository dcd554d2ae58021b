/**
 * The dependency rule of docs/ARCHITECTURE.md, enforced: a forbidden import between the
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

/** Files that ship in dist/ (tsconfig.build.json): everything in the built folders but tests and their helpers. */
const built = ['proto', 'kernel', 'gateway', 'regional', 'simulator', 'cli'] as const;
const isProduction = (file: string) => !/\.test\.ts$/.test(file) && !file.includes('.test-helpers.');

/** The npm package a bare import names (`@scope/name/sub` → `@scope/name`). */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The console page's sources are bundled by esbuild at build time into dist/console-web
 * (scripts/build-console.mjs): what they import ships inside the bundle, not from node_modules.
 */
const BUNDLED_AT_BUILD_TIME = join('gateway', 'console', 'web');

function productionImportsOfDevDependencies(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const found: string[] = [];
  for (const folder of built) {
    for (const file of sourceFiles(join(root, folder)).filter(isProduction)) {
      if (relative(root, file).startsWith(BUNDLED_AT_BUILD_TIME)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
        const name = packageOf(m[1] ?? m[2] ?? '');
        if (name && dev.has(name)) found.push(`${relative(root, file)} imports ${name}, a devDependency`);
      }
    }
  }
  return found;
}

describe('dependencies of what ships', () => {
  it('production code imports no devDependency (npm install --omit=dev must run it)', () => {
    expect(productionImportsOfDevDependencies()).toEqual([]);
  });

  it('names the package of an import', () => {
    expect(packageOf('lora-packet')).toBe('lora-packet');
    expect(packageOf('@chirpstack/chirpstack-api/gw/gw_pb.js')).toBe('@chirpstack/chirpstack-api');
    expect(packageOf('node:fs')).toBeUndefined();
    expect(packageOf('./x.js')).toBeUndefined();
  });
});

describe('dependency rule (docs/ARCHITECTURE.md layout)', () => {
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
