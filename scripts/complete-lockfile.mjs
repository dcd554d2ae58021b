#!/usr/bin/env node
// Completes package-lock.json with Biome's per-platform binary packages.
//
// Why: the npm registry mirror these machines reach serves only the linux-x64
// (glibc) build of @biomejs/cli-*, so `npm install` here writes a lock without
// the other platforms, and `npm ci` then refuses the lock as out of sync
// ("Missing: @biomejs/cli-darwin-arm64@ from lock file"). The entries added
// here only describe those optional packages (os/cpu/libc), so npm skips them
// on this platform and never fetches them. Run after any `npm install` that
// rewrites the lock:  node scripts/complete-lockfile.mjs package-lock.json
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const v = lock.packages['node_modules/@biomejs/biome'].version;
const platforms = {
  'cli-android-arm64': [['android'], ['arm64']],
  'cli-android-x64': [['android'], ['x64']],
  'cli-darwin-arm64': [['darwin'], ['arm64']],
  'cli-darwin-x64': [['darwin'], ['x64']],
  'cli-linux-arm64-musl': [['linux'], ['arm64'], ['musl']],
  'cli-linux-x64-musl': [['linux'], ['x64'], ['musl']],
  'cli-win32-arm64': [['win32'], ['arm64']],
  'cli-win32-x64': [['win32'], ['x64']],
};
for (const [name, [os, cpu, libc]] of Object.entries(platforms)) {
  const key = `node_modules/@biomejs/${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = {
    version: v,
    cpu,
    dev: true,
    license: 'MIT OR Apache-2.0',
    optional: true,
    os,
    ...(libc ? { libc } : {}),
    engines: { node: '>=14.21.3' },
  };
}
// cbor-x (through @auth0/cose, a test-only dependency) names prebuilt cbor-extract binaries as
// optional dependencies; the mirror has none of the version it asks for. cbor-x works without
// them (it falls back to its JavaScript decoder), so they are described here and skipped.
const extract = lock.packages['node_modules/cbor-extract'];
if (extract?.optionalDependencies) {
  const cborPlatforms = {
    'cbor-extract-darwin-arm64': [['darwin'], ['arm64']],
    'cbor-extract-darwin-x64': [['darwin'], ['x64']],
    'cbor-extract-linux-arm': [['linux'], ['arm']],
    'cbor-extract-linux-arm64': [['linux'], ['arm64']],
    'cbor-extract-linux-x64': [['linux'], ['x64']],
    'cbor-extract-win32-x64': [['win32'], ['x64']],
  };
  for (const [name, [os, cpu]] of Object.entries(cborPlatforms)) {
    const key = `node_modules/@cbor-extract/${name}`;
    const version = extract.optionalDependencies[`@cbor-extract/${name}`];
    if (lock.packages[key] || !version) continue;
    lock.packages[key] = { version, cpu, dev: true, license: 'MIT', optional: true, os };
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
