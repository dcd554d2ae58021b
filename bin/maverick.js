#!/usr/bin/env node
// The installed entry point runs the compiled CLI (built by `npm ci` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/entry.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write(
    'maverick: dist/ is missing. Run `npm ci` (or `npm run build`) in the project folder first.\n',
  );
  process.exit(2);
}
await import(compiled.href);
