/**
 * Hands the free pages of malloc's heaps back to the kernel, once a second,
 * for `maverick run` (glibc's malloc_trim, through the small addon in
 * native/malloc-trim).
 *
 * glibc keeps what free() returns inside its heaps: a page in the middle of a
 * heap stays resident although nothing on it is used any more, and only the
 * heap's top is ever given back by itself. The gateway's three threads
 * allocate and free buffers by the million in a burst (datagrams, batches for
 * the SQLite writer, V8's own work lists and compiler zones), so free chunks
 * pile up between the few that live on: at the peak of the 5,000 uplinks/s,
 * 1,000-device burst of bench/gateway-udp.bench.ts, malloc's main heap held
 * 33 MB of which 14 MB were free (malloc_info), and one malloc_trim(0) took the
 * process from 177 to 160 MB resident. A trim that finds nothing to release
 * costs ~0.35 ms and one that releases 59 MB ~5 ms (pages are madvised away, not
 * copied; measured on a 64 MB fragmented heap); a page malloc needs again is
 * faulted back in.
 *
 * Where the addon is missing (it did not build, or the C library is not glibc)
 * nothing is trimmed: the gateway runs as before, with a note in the log.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../proto/log.js';

/** The addon's interface (native/malloc-trim/src/malloc_trim.c). */
export interface MallocTrim {
  /** Whether this C library has malloc_trim (glibc); trim() does nothing otherwise. */
  readonly supported: boolean;
  /** malloc_trim(0) over every heap; true when memory was released. */
  trim(): boolean;
}

/** The addon, or why it is not there. */
export function loadMallocTrim(): { trim: MallocTrim } | { missing: string } {
  try {
    return usable(createRequire(import.meta.url)('maverick-malloc-trim') as MallocTrim);
  } catch (err) {
    // The first line only: a module-not-found error goes on with its whole require stack.
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { missing: `the malloc-trim addon did not load (${reason})` };
  }
}

/** Why nothing is trimmed on a C library other than glibc (nothing to fix there). */
export const NOT_GLIBC = 'the C library has no malloc_trim (not glibc)';

function usable(addon: MallocTrim): { trim: MallocTrim } | { missing: string } {
  return addon.supported ? { trim: addon } : { missing: NOT_GLIBC };
}

export const MEMORY_TRIM_INTERVAL_MS = 1000;

export interface MemoryTrimStats {
  /** Trims run. */
  trims: number;
  /** Trims that released memory. */
  released: number;
  /** Time spent in malloc_trim, in ms. */
  ms: number;
}

export interface MemoryTrimmer {
  stats(): MemoryTrimStats;
  stop(): void;
}

/**
 * Trims every `intervalMs` on an unref'd timer (it never keeps the process alive).
 * Returns undefined, after an info line, where there is no malloc_trim to call.
 */
export function startMemoryTrim(options: {
  logger: Logger;
  intervalMs?: number;
  /** The addon (tests pass one); default the one installed. */
  trim?: MallocTrim;
}): MemoryTrimmer | undefined {
  const loaded = options.trim ? usable(options.trim) : loadMallocTrim();
  if ('missing' in loaded) {
    options.logger.info(
      { reason: loaded.missing },
      'malloc heaps are not trimmed: resident memory after a burst stays higher',
    );
    return undefined;
  }
  const addon = loaded.trim;
  const stats: MemoryTrimStats = { trims: 0, released: 0, ms: 0 };
  const timer = setInterval(() => {
    const started = performance.now();
    const released = addon.trim();
    stats.ms += performance.now() - started;
    stats.trims++;
    if (released) stats.released++;
  }, options.intervalMs ?? MEMORY_TRIM_INTERVAL_MS);
  timer.unref();
  return {
    stats: () => ({ ...stats }),
    stop: () => clearInterval(timer),
  };
}
