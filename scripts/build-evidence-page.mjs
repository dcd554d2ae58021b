#!/usr/bin/env node
/**
 * Builds the self-contained evidence verifier (cli/evidence-web) with esbuild into one HTML
 * file, dist/evidence-verifier.html: the verification core (proto/evidence), @noble/ed25519
 * and @noble/hashes inlined in the page's only script, so it verifies packs with no network.
 * Runs as part of `npm run build`; `maverick evidence page --out FILE` hands it out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'cli/evidence-web');
const out = join(root, 'dist/evidence-verifier.html');

const result = await build({
  entryPoints: [join(source, 'main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'safari15', 'firefox100'],
  write: false,
  legalComments: 'inline',
  logLevel: 'warning',
});
// A literal "</script" inside the code would end the element early; split it the standard way.
const script = result.outputFiles[0].text.replaceAll('</script', '<\\/script');
const page = readFileSync(join(source, 'page.html'), 'utf8').replace('/*__VERIFIER__*/', () => script);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, page);
console.log(`evidence verifier page: ${(page.length / 1024).toFixed(1)} KB (${out})`);
