/**
 * `maverick run` loads and validates its config on a short-lived thread.
 *
 * Why: the validator (zod, with the schema built from it) is ~2.8 MB of heap
 * once loaded, and an ES module never unloads: read on the event loop, it
 * stayed resident for the gateway's whole life to check one file once. On a
 * thread of its own it goes when the thread exits; the gateway keeps only the
 * validated config (plain data, cloned across). Errors come back as the same
 * MaverickError (code, hint, context), so what the technician reads does not
 * change. Costs a thread start (~40 ms) once per run.
 */

import { startModuleWorker } from '../../kernel/worker-module.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type FlatError, rebuildError } from '../../proto/thread-errors.js';
import type { ConfigOverrides } from './load.js';
import type { MaverickConfig } from './schema.js';

export interface LoadRequest {
  dataDir: string;
  overrides: ConfigOverrides;
}

export type LoadAnswer =
  | { ok: true; config: MaverickConfig }
  | { ok: false; error: FlatError }
  /** Not a MaverickError (a bug): its message and stack, for the report. */
  | { ok: false; unexpected: { message: string; stack?: string } };

/** loadConfig(dataDir, overrides) on its own thread: the config, or the MaverickError it threw. */
export function loadConfigOffThread(
  dataDir: string,
  overrides: ConfigOverrides = {},
): Promise<MaverickConfig> {
  const request: LoadRequest = { dataDir, overrides };
  const worker = startModuleWorker('./load-off-thread-worker', import.meta.url, { workerData: request });
  return new Promise<MaverickConfig>((resolve, reject) => {
    let answered = false;
    worker.once('message', (answer: LoadAnswer) => {
      answered = true;
      if (answer.ok) resolve(answer.config);
      else if ('error' in answer) reject(rebuildError(answer.error));
      else reject(Object.assign(new Error(answer.unexpected.message), { stack: answer.unexpected.stack }));
    });
    worker.once('error', (err) => {
      if (!answered) reject(threadFailed(err));
      answered = true;
    });
    worker.once('exit', (code) => {
      if (!answered) reject(threadFailed(new Error(`the thread exited with code ${code} before answering`)));
      answered = true;
    });
  });
}

function threadFailed(cause: unknown): MaverickError {
  return new MaverickError(ErrorCode.ConfigParse, `the config could not be loaded: ${String(cause)}`, {
    hint: 'run maverick doctor; if it keeps happening, report it with this message',
    cause,
  });
}
