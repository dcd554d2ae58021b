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
