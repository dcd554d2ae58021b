/**
 * `npm run bench [-- --json] [-- --only NAME]`: imports every bench/*.bench.ts, runs them one
 * after another (these machines are noisy: each bench measures ours and its baseline in the
 * same run), prints a table, or one JSON object per figure with --json.
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import type { BenchFigure } from './figure.js';

interface BenchModule {
  run(): Promise<BenchFigure[]>;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;

const dir = new URL('.', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || f.includes(only))
  .sort();

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

let failures = 0;
const rows: string[][] = [];
for (const file of files) {
  const suite = basename(file, '.bench.ts');
  let figures: BenchFigure[];
  try {
    const mod = (await import(new URL(file, dir).href)) as BenchModule;
    figures = await mod.run();
  } catch (err) {
    failures++;
    process.stderr.write(
      `bench ${suite} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    continue;
  }
  for (const f of figures) {
    if (json) {
      process.stdout.write(`${JSON.stringify({ suite, ...f })}\n`);
    } else {
      rows.push([
        suite,
        f.name,
        `${fmt(f.value)} ${f.unit}`,
        f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)}` : '',
        f.ratio !== undefined ? `${fmt(f.ratio)}x` : '',
        f.note ?? '',
      ]);
    }
  }
}

if (!json) {
  const header = ['suite', 'figure', 'value', 'baseline', 'ratio', 'note'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}
process.exitCode = failures ? 1 : 0;
