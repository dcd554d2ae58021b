/**
 * Starts a worker thread on a module that sits next to the caller's: `.js`
 * when running compiled (dist/). From source (tsx, vitest) it is `.ts`, which a
 * thread can only load after registering tsx's loader in that thread: a
 * two-line bootstrap does that.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Heap limits for a long-running helper thread (the SQLite writer, the Semtech UDP thread).
 * The limit is not what bounds their memory (their live heaps are ~5 MB); it sets V8's
 * heap growing factor, which follows the isolate's limit: without one a thread inherits
 * the default limit of a machine with plenty of RAM (a few GB), whose factor lets a 5 MB
 * live heap grow to ~16 MB between full collections; at 256 MB or under the factor is the
 * lowest (1.3). A young generation of 1 MB (V8's default is several) costs a few more
 * scavenges of short-lived garbage. Together ~10 MB less resident at the 5,000 uplinks/s
 * burst (bench/gateway-udp.bench.ts), no measurable CPU.
 *
 * V8 lets its command-line flags win over these: under the systemd unit (NODE_OPTIONS
 * --max-semi-space-size=2 --max-old-space-size=512) a thread gets those sizes instead
 * (heap sampler: each thread's new space 4 MB, not 2), and `maverick run` sets the growing
 * factor for every heap itself (gateway/heap-policy.ts). The limits count where no such flag is
 * set (tests, `maverick demo`). Making them win under the unit (the flag set to 0 before the
 * threads start) gave the writer a 1 MB young generation that promoted more: its old space
 * went from 5 to 12.5 MB at the burst's peak, no lower overall.
 */
export const HELPER_THREAD_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 1 } as const;

/**
 * `sibling` is the module's path relative to `callerUrl` without its extension
 * (e.g. './sqlite-writer-worker'); `callerUrl` is the caller's import.meta.url.
 */
export function startModuleWorker(sibling: string, callerUrl: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${sibling}.js`, callerUrl), options);
  // require.resolve finds the package's CommonJS entry; its ES module sits beside it.
  const tsxCjs = createRequire(callerUrl).resolve('tsx/esm/api');
  const tsxApi = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(`${sibling}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
