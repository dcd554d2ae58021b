/**
 * Regions are data (proto/regions): no code outside that folder decides
 * behaviour by comparing a region's name, so a new plan cannot be missed in a
 * branch somewhere (issue 12). Tests are scanned too, this file excepted.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLAN_IDS } from '../proto/regions/index.js';

const root = resolve(import.meta.dirname, '..');
const folders = ['proto', 'kernel', 'gateway', 'regional', 'simulator', 'cli', 'test', 'bench', 'scripts'];
const exempt = [join('proto', 'regions'), join('test', 'region-names.test.ts')];

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts|js|mjs)$/.test(name) ? [path] : [];
  });
}

const names = PLAN_IDS.map((id) => id.replace(/-/g, '\\-')).join('|');
const quoted = `['"\`](?:${names})(?:\\-SB\\d)?['"\`]`;
/** `x === 'EU868'`, `'us915' !== x`, `case 'AU915':` and `region.id === '…'` / `regionId === "…"` of any text. */
const branchPatterns = [
  new RegExp(`[!=]==?\\s*${quoted}`, 'i'),
  new RegExp(`${quoted}\\s*[!=]==?`, 'i'),
  new RegExp(`\\bcase\\s+${quoted}\\s*:`, 'i'),
  /\bregion(?:Id)?(?:\.id)?\s*[!=]==?\s*['"`]/,
];

/** The lines of `text` that branch on a region's name. */
function regionNameBranches(text: string): string[] {
  return (
    text
      .split('\n')
      // A trailing // comment is not code (a "://" inside a string is kept).
      .map((line, i) => ({ line: line.replace(/(^|[^:])\/\/.*$/, '$1').trim(), n: i + 1 }))
      .filter(({ line }) => !line.startsWith('//') && !line.startsWith('*'))
      .filter(({ line }) => branchPatterns.some((p) => p.test(line)))
      .map(({ line, n }) => `${n}: ${line}`)
  );
}

describe('region names', () => {
  it('the check finds the branches it is meant to find', () => {
    expect(regionNameBranches("if (region.id === 'EU868') x();")).toHaveLength(1);
    expect(regionNameBranches("return 'us915' !== regionId;")).toHaveLength(1);
    expect(regionNameBranches("  case 'AS923-2':")).toHaveLength(1);
    expect(regionNameBranches("const ok = region.id === 'anything';")).toHaveLength(1);
    expect(regionNameBranches("const r = getRegion('AU915-SB1'); // 'EU868' === x")).toEqual([]);
  });

  it('no code outside proto/regions branches on a region name', () => {
    const found: string[] = [];
    for (const folder of folders) {
      for (const file of sourceFiles(join(root, folder))) {
        const rel = relative(root, file);
        if (exempt.some((e) => rel === e || rel.startsWith(`${e}/`))) continue;
        for (const hit of regionNameBranches(readFileSync(file, 'utf8'))) found.push(`${rel}:${hit}`);
      }
    }
    expect(found, 'read the behaviour from the Region (proto/regions) instead').toEqual([]);
  });
});
