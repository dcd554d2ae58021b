/** The thread of load-off-thread.ts: loads the config, answers once, and ends (taking zod with it). */
import { parentPort, workerData } from 'node:worker_threads';
import { isMaverickError } from '../../proto/errors.js';
import { flattenError } from '../../proto/thread-errors.js';
import { loadConfig } from './load.js';
import type { LoadAnswer, LoadRequest } from './load-off-thread.js';

const request = workerData as LoadRequest;
let answer: LoadAnswer;
try {
  answer = { ok: true, config: loadConfig(request.dataDir, request.overrides) };
} catch (err) {
  answer = isMaverickError(err)
    ? { ok: false, error: flattenError(err) }
    : {
        ok: false,
        unexpected: { message: String((err as Error)?.message ?? err), stack: (err as Error)?.stack },
      };
}
try {
  parentPort?.postMessage(answer);
} catch (err) {
  // A context that cannot be cloned: the error without it still says what to fix.
  if (!answer.ok && 'error' in answer) {
    const { context: _context, ...withoutContext } = answer.error;
    parentPort?.postMessage({ ok: false, error: withoutContext } satisfies LoadAnswer);
  } else {
    throw err;
  }
}
