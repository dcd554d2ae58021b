#!/usr/bin/env node
/**
 * Bundles the farm console page (gateway/console/web) with esbuild into
 * dist/console-web: one app.js, one app.css, the HTML shell, the manifest and
 * the offline service worker. Runs as part of `npm run build` (and so of
 * `npm ci`'s prepare step); nothing is fetched at run time.
 * Prints the gzipped size of the script and styles (the budget is 200 KB).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'gateway/console/web');
const out = join(root, 'dist/console-web');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(source, 'main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'safari15', 'firefox100'],
  outdir: out,
  legalComments: 'eof',
  logLevel: 'warning',
});
for (const file of ['index.html', 'manifest.webmanifest', 'sw.js'])
  copyFileSync(join(source, file), join(out, file));

const sizes = ['app.js', 'app.css'].map((f) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length);
const total = sizes[0] + sizes[1];
console.log(
  `console bundle: app.js ${(sizes[0] / 1024).toFixed(1)} KB + app.css ${(sizes[1] / 1024).toFixed(1)} KB gzipped = ${(total / 1024).toFixed(1)} KB (budget 200 KB)`,
);
