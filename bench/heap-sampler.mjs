/**
 * A heap sampler for a spawned `maverick run`, loaded into every thread of it:
 *
 *   MAVERICK_BENCH_GATEWAY_NODE_ARGS="--import ./bench/heap-sampler.mjs" \
 *     node --import tsx bench/run.ts --only gateway-udp
 *
 * Worker threads inherit the `--import`, so the event loop (t0), the SQLite writer and the
 * Semtech UDP thread each append a line every 250 ms to heap-sampler-<pid>.log in the
 * directory of MAVERICK_HEAP_SAMPLER_DIR (default the OS temp dir): the thread, the process's
 * RSS (event loop only), V8's heap total/used, external memory, old space size/used, new space,
 * large objects; and a line after every full collection (with the heap in use then, close to
 * the live size). The peak of a burst is then split by thread and by space, which VmHWM alone
 * cannot do. A tool for measuring, never loaded by the gateway itself.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { threadId } from 'node:worker_threads';

const file = join(process.env.MAVERICK_HEAP_SAMPLER_DIR ?? tmpdir(), `heap-sampler-${process.pid}.log`);
const startedAt = Date.now();
const mb = (bytes) => (bytes / 1048576).toFixed(1);
const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);

function residentMb() {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

setInterval(() => {
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const heap = v8.getHeapStatistics();
  const rss = threadId === 0 ? ` rss ${residentMb()}` : '';
  appendFileSync(
    file,
    `${seconds()} t${threadId}${rss} total ${mb(heap.total_heap_size)} used ${mb(heap.used_heap_size)}` +
      ` ext ${mb(heap.external_memory)} old ${mb(spaces.old_space.space_size)}/${mb(spaces.old_space.space_used_size)}` +
      ` new ${mb(spaces.new_space.space_size)} lo ${mb(spaces.large_object_space.space_size)}\n`,
  );
}, 250).unref();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    const heap = v8.getHeapStatistics();
    appendFileSync(
      file,
      `${seconds()} t${threadId} full-gc ${entry.duration.toFixed(1)} ms, in use after ${mb(heap.used_heap_size)} of ${mb(heap.total_heap_size)}\n`,
    );
  }
}).observe({ entryTypes: ['gc'] });
