/**
 * Runs one fuzz target over inputs [start, start + count) in a worker thread,
 * so the runner's watchdog can stop it if a parser never returns. Publishes
 * the index being parsed in shared memory (the watchdog names the exact input
 * of a hang) and a progress message every few thousand inputs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMaverickError } from '../../proto/errors.js';
import { makeInput } from './inputs.js';
import { targets } from './targets.js';

export interface WorkerJob {
  target: string;
  seed: number;
  start: number;
  count: number;
  /** An input that takes longer than this counts as a hang. */
  boundMs: number;
  /** Int32Array(1): the index being parsed. */
  current: SharedArrayBuffer;
}

export interface Finding {
  index: number;
  ms?: number;
  error?: string;
}

export type WorkerMessage =
  | { type: 'progress'; done: number }
  | { type: 'done'; done: number; crashes: number; slow: number; maxMs: number; findings: Finding[] };

const PROGRESS_EVERY = 5_000;
const KEEP_FINDINGS = 5;

const job = workerData as WorkerJob;
const target = targets.find((t) => t.name === job.target);
if (!target) throw new Error(`no fuzz target ${job.target}`);
const current = new Int32Array(job.current);
const findings: Finding[] = [];
let crashes = 0;
let slow = 0;
let maxMs = 0;
const end = job.start + job.count;
for (let i = job.start; i < end; i++) {
  const input = makeInput(target, job.seed, i);
  Atomics.store(current, 0, i);
  const t0 = performance.now();
  try {
    target.call(input);
  } catch (err) {
    if (!isMaverickError(err)) {
      crashes++;
      if (findings.length < KEEP_FINDINGS)
        findings.push({
          index: i,
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
    }
  }
  const ms = performance.now() - t0;
  if (ms > maxMs) maxMs = ms;
  if (ms > job.boundMs) {
    slow++;
    if (findings.length < KEEP_FINDINGS) findings.push({ index: i, ms });
  }
  if ((i - job.start + 1) % PROGRESS_EVERY === 0)
    parentPort?.postMessage({ type: 'progress', done: i - job.start + 1 } satisfies WorkerMessage);
}
parentPort?.postMessage({
  type: 'done',
  done: job.count,
  crashes,
  slow,
  maxMs,
  findings,
} satisfies WorkerMessage);
