/**
 * The source of the worker thread that runs JavaScript codecs in QuickJS.
 *
 * Why a worker, on top of QuickJS's own limits: the interrupt handler only
 * runs between bytecodes, and measured on this machine a codec that fills its
 * 16 MiB heap can spend 6-26 s inside QuickJS's allocator/GC before "out of
 * memory" comes back. Only a thread can be stopped from outside
 * (Worker.terminate), so the host keeps a watchdog and restarts the worker.
 *
 * Why a string (run with `new Worker(src, { eval: true })`): the same code
 * must work from the TypeScript sources (tests, tsx) and from the compiled
 * dist/, and a plain-JS string needs no loader in either. It is deliberately
 * small: it only evaluates code and moves JSON strings; every check of what a
 * codec returned happens on the host side in typed code (js-codec.ts).
 *
 * Protocol (one request at a time, the host serialises):
 *   host → worker  { id, op: 'load', codecId, source, limits }
 *                  { id, op: 'call', codecId, fn, input }   input: JSON string
 *                  { id, op: 'unload', codecId }
 *   worker → host  { ready: true } once QuickJS is loaded, then per request
 *                  { id, ok: true, output?, exports? } | { id, ok: false, kind, error }
 *   kind: 'throw' | 'timeout' | 'memory' | 'stack' | 'load' | 'missing' | 'crash'
 */
export const QUICKJS_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { getQuickJS } = require(workerData.quickjsPath);

// Installed before the codec's own code, so a codec cannot swap JSON or Date under us.
const PRELUDE = "(function () {" +
  "var parse = JSON.parse, stringify = JSON.stringify, D = Date, g = globalThis;" +
  "Object.defineProperty(g, '__maverickCall', { value: function (name, json) {" +
  "  var fn = g[name];" +
  "  if (typeof fn !== 'function') throw new TypeError(name + ' is not a function in this codec');" +
  "  var input = parse(json);" +
  "  if (typeof input.recvTime === 'string') input.recvTime = new D(input.recvTime);" +
  "  var out = stringify(fn(input));" +
  "  return typeof out === 'string' ? out : 'null';" +
  "}, writable: false, configurable: false, enumerable: false });" +
  "})();";

const codecs = new Map(); // codecId -> { source, limits, runtime, context, call }

function describe(context, handle) {
  try {
    const e = context.dump(handle);
    if (e && typeof e === 'object') return { name: String(e.name || 'Error'), message: String(e.message || '') };
    return { name: 'Thrown', message: String(e) };
  } catch (err) {
    return { name: 'Error', message: 'the codec failed and its error could not be read' };
  } finally {
    try { handle.dispose(); } catch (err) { /* already gone */ }
  }
}

function classify(err) {
  if (err.name === 'InternalError' && err.message === 'interrupted') return 'timeout';
  if (err.name === 'InternalError' && /out of memory/.test(err.message)) return 'memory';
  if (err.name === 'InternalError' && /stack overflow/.test(err.message)) return 'stack';
  if (err.name === 'RangeError' && /call stack/i.test(err.message)) return 'stack';
  return 'throw';
}

function dispose(entry) {
  try { if (entry.call) entry.call.dispose(); } catch (err) { /* ignore */ }
  try { if (entry.context) entry.context.dispose(); } catch (err) { /* ignore */ }
  try { if (entry.runtime) entry.runtime.dispose(); } catch (err) { /* ignore */ }
  entry.call = entry.context = entry.runtime = undefined;
}

function instantiate(QuickJS, entry) {
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(entry.limits.memoryBytes);
  runtime.setMaxStackSize(entry.limits.stackBytes);
  const context = runtime.newContext();
  entry.runtime = runtime;
  entry.context = context;
  // One handler per runtime reading a deadline we move per call (cheaper than a new handler each time).
  // Loading compiles the whole file: it gets the (longer) load limit, calls get the call limit.
  entry.deadline = Date.now() + entry.limits.loadLimitMs;
  runtime.setInterruptHandler(() => Date.now() > entry.deadline);
  const prelude = context.evalCode(PRELUDE, 'prelude.js');
  if (prelude.error) return { kind: 'load', ...describe(context, prelude.error) };
  prelude.value.dispose();
  const loaded = context.evalCode(entry.source, entry.codecId);
  if (loaded.error) {
    const err = describe(context, loaded.error);
    return { kind: classify(err) === 'throw' ? 'load' : classify(err), ...err };
  }
  loaded.value.dispose();
  entry.call = context.getProp(context.global, '__maverickCall');
  const kinds = {};
  for (const name of ['decodeUplink', 'encodeDownlink']) {
    const h = context.getProp(context.global, name);
    kinds[name] = context.typeof(h) === 'function';
    h.dispose();
  }
  entry.exports = kinds;
  return undefined;
}

function handle(QuickJS, msg) {
  if (msg.op === 'unload') {
    const entry = codecs.get(msg.codecId);
    if (entry) dispose(entry);
    codecs.delete(msg.codecId);
    return { id: msg.id, ok: true };
  }
  if (msg.op === 'load') {
    const old = codecs.get(msg.codecId);
    if (old) dispose(old);
    const entry = { codecId: msg.codecId, source: msg.source, limits: msg.limits };
    codecs.set(msg.codecId, entry);
    const failed = instantiate(QuickJS, entry);
    if (failed) {
      dispose(entry);
      codecs.delete(msg.codecId);
      return { id: msg.id, ok: false, kind: failed.kind, error: failed.name + ': ' + failed.message };
    }
    return { id: msg.id, ok: true, exports: entry.exports };
  }
  const entry = codecs.get(msg.codecId);
  if (!entry) return { id: msg.id, ok: false, kind: 'missing', error: 'codec not loaded' };
  if (!entry.context) {
    // A previous call broke the runtime (time, memory, stack): start it again from the source.
    const failed = instantiate(QuickJS, entry);
    if (failed) {
      dispose(entry);
      return { id: msg.id, ok: false, kind: failed.kind, error: failed.name + ': ' + failed.message };
    }
  }
  const { context } = entry;
  entry.deadline = Date.now() + entry.limits.timeLimitMs;
  const name = context.newString(msg.fn);
  const input = context.newString(msg.input);
  let result;
  try {
    result = context.callFunction(entry.call, context.undefined, name, input);
  } finally {
    name.dispose();
    input.dispose();
  }
  if (result.error) {
    const err = describe(context, result.error);
    const kind = classify(err);
    if (kind !== 'throw') dispose(entry);
    return { id: msg.id, ok: false, kind, error: err.name + ': ' + err.message };
  }
  const output = context.getString(result.value);
  result.value.dispose();
  return { id: msg.id, ok: true, output };
}

getQuickJS().then((QuickJS) => {
  // Warm the interpreter once so the first codec's time limit is not spent on WASM tier-up.
  const warm = QuickJS.newContext();
  const r = warm.evalCode('JSON.stringify({ a: [1, 2, 3].map(function (x) { return x * 2; }) })');
  if (r.error) r.error.dispose(); else r.value.dispose();
  warm.dispose();
  parentPort.on('message', (msg) => {
    let reply;
    try {
      reply = handle(QuickJS, msg);
    } catch (err) {
      // The host engine itself gave up (e.g. its own stack): say so, then leave; the host restarts us.
      parentPort.postMessage({ id: msg.id, ok: false, kind: 'crash', error: String(err && err.message || err) });
      process.exit(1);
    }
    parentPort.postMessage(reply);
  });
  parentPort.postMessage({ ready: true });
});
`;
