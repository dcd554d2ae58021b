import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../proto/log.js';
import { checkMemoryTrim } from './doctor/checks-host.js';
import { loadMallocTrim, type MallocTrim, NOT_GLIBC, startMemoryTrim } from './memory-trim.js';

function recordingLogger(lines: { fields: unknown; message: string }[]): Logger {
  const log = (fields: unknown, message?: string) => {
    lines.push({ fields, message: message ?? '' });
  };
  const logger = { debug: log, info: log, warn: log, error: log, child: () => logger } as unknown as Logger;
  return logger;
}

/**
 * Resident memory (from the kernel) of a fresh node that leaves malloc's heap fragmented: 64 MB of
 * 16 KB buffers (malloc'd, below glibc's mmap threshold), every eighth kept alive, the rest freed
 * by a full collection; then measured before and after one trim.
 */
function residentAroundTrim(): { before: number; after: number; released: boolean } {
  const moduleUrl = new URL('./memory-trim.ts', import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { loadMallocTrim } = await import(${JSON.stringify(moduleUrl)});
    const loaded = loadMallocTrim();
    if (!loaded.trim) throw new Error(loaded.missing);
    const rssKb = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    let buffers = [];
    for (let i = 0; i < 4096; i++) buffers.push(Buffer.allocUnsafeSlow(16 * 1024).fill(1));
    const kept = buffers.filter((_, i) => i % 8 === 0);
    buffers = undefined;
    // Backing stores are freed once their buffers are collected; wait until V8 says they are.
    for (let round = 0; round < 1000 && process.memoryUsage().arrayBuffers > 12 * 1024 * 1024; round++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const before = rssKb();
    const released = loaded.trim.trim();
    const after = rssKb();
    console.log(JSON.stringify({ before, after, released, kept: kept.length }));`;
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`child failed: ${run.stderr || run.stdout}`);
  return JSON.parse(line) as { before: number; after: number; released: boolean };
}

describe('malloc heap trimming', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('loads the addon on this glibc system', () => {
    const loaded = loadMallocTrim();
    expect('trim' in loaded ? loaded.trim.supported : loaded.missing).toBe(true);
  });

  // The kernel's own count of resident pages is the oracle: freed chunks between live ones stay
  // resident until the trim, and leave with it.
  it('returns the free pages of a fragmented malloc heap to the kernel', () => {
    const { before, after, released } = residentAroundTrim();
    expect(released).toBe(true);
    // ~56 MB were freed between the chunks kept; most of it must leave.
    expect(before - after).toBeGreaterThan(32 * 1024);
  });

  it('trims once per interval, counts what it did, and stops', () => {
    vi.useFakeTimers();
    const calls: number[] = [];
    const addon: MallocTrim = {
      supported: true,
      trim: () => {
        calls.push(Date.now());
        return calls.length % 2 === 1;
      },
    };
    const trimmer = startMemoryTrim({ logger: recordingLogger([]), intervalMs: 1000, trim: addon });
    expect(trimmer).toBeDefined();
    vi.advanceTimersByTime(3500);
    expect(calls).toHaveLength(3);
    expect(trimmer?.stats()).toMatchObject({ trims: 3, released: 2 });
    trimmer?.stop();
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(3);
  });

  it('says so and trims nothing where the C library has no malloc_trim', () => {
    const lines: { fields: unknown; message: string }[] = [];
    vi.useFakeTimers();
    let calls = 0;
    const addon: MallocTrim = {
      supported: false,
      trim: () => {
        calls++;
        return true;
      },
    };
    const trimmer = startMemoryTrim({ logger: recordingLogger(lines), trim: addon });
    vi.advanceTimersByTime(5000);
    expect(trimmer).toBeUndefined();
    expect(calls).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toEqual({ reason: 'the C library has no malloc_trim (not glibc)' });
  });

  describe('doctor', () => {
    it('says the heaps are trimmed where the addon loads', () => {
      expect(checkMemoryTrim()).toMatchObject({ id: 'memory-trim', status: 'ok' });
    });

    it('warns with the fix when the addon did not build, and is fine without glibc', () => {
      const broken = checkMemoryTrim(() => ({ missing: 'the malloc-trim addon did not load (no build)' }));
      expect(broken.status).toBe('warn');
      expect(broken.fix).toContain('build-essential');
      expect(broken.fix).toContain('npm ci');
      const musl = checkMemoryTrim(() => ({ missing: NOT_GLIBC }));
      expect(musl.status).toBe('ok');
    });
  });
});
