/**
 * `npm run fuzz [-- --inputs N] [-- --only NAME] [-- --seed S] [-- --parallel P] [-- --json]`:
 * every parser of untrusted bytes (bench/fuzz/targets.ts) on N generated
 * inputs each (default 1,000,000), one target at a time in a worker thread.
 * A crash is any throw other than MaverickError; a hang is an input slower
 * than --bound-ms (default 1000 ms) or a worker silent for --stall-ms
 * (default 60 s; it is stopped and the input it was on is printed). Prints a
 * table (or one JSON object per target) and exits 1 on any crash or hang.
 * Not part of `npm test` or `npm run bench`: a full run takes minutes.
 */
import { Worker } from 'node:worker_threads';
import { makeInput } from './inputs.js';
import { targets } from './targets.js';
import type { Finding, WorkerJob, WorkerMessage } from './worker.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} needs a non-negative integer`);
  return value;
}

const json = process.argv.includes('--json');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
const inputs = flag('--inputs', 1_000_000);
const seed = flag('--seed', 20_261_204);
const boundMs = flag('--bound-ms', 1000);
const stallMs = flag('--stall-ms', 60_000);
const parallel = flag('--parallel', 1);

/** The worker is TypeScript too: a JS entry that loads it through tsx's API (Node 20 cannot start a .ts worker). */
const workerUrl = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
const WORKER_BOOT = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${workerUrl}, ${workerUrl}));`;

export interface TargetResult {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  maxMs: number;
  seconds: number;
  findings: (Finding & { inputHex: string })[];
}

function runTarget(name: string): Promise<TargetResult> {
  const current = new SharedArrayBuffer(4);
  const job: WorkerJob = { target: name, seed, start: 0, count: inputs, boundMs, current };
  const worker = new Worker(WORKER_BOOT, { eval: true, workerData: job });
  const started = performance.now();
  const target = targets.find((t) => t.name === name)!;
  const withInput = (f: Finding) => ({
    ...f,
    inputHex: Buffer.from(makeInput(target, seed, f.index)).toString('hex'),
  });
  return new Promise((resolve, reject) => {
    let lastProgress = performance.now();
    let done = 0;
    const finish = (result: Omit<TargetResult, 'target' | 'seconds'>) => {
      clearInterval(watchdog);
      resolve({ target: name, seconds: (performance.now() - started) / 1000, ...result });
    };
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress < stallMs) return;
      const index = Atomics.load(new Int32Array(current), 0);
      void worker.terminate();
      finish({
        inputs: index + 1,
        crashes: 0,
        hangs: 1,
        maxMs: stallMs,
        findings: [withInput({ index, ms: stallMs })],
      });
    }, 1000);
    worker.on('message', (m: WorkerMessage) => {
      lastProgress = performance.now();
      done = m.done;
      if (m.type === 'done')
        finish({
          inputs: m.done,
          crashes: m.crashes,
          hangs: m.slow,
          maxMs: m.maxMs,
          findings: m.findings.map(withInput),
        });
    });
    worker.on('error', (err) => {
      clearInterval(watchdog);
      reject(new Error(`fuzz worker for ${name} failed after ${done} inputs: ${err.message}`));
    });
  });
}

// --only takes a name part, or several separated by commas.
const selected = targets.filter((t) => !only || only.split(',').some((part) => t.name.includes(part)));
const results: TargetResult[] = [];
// Targets run `--parallel` at a time (default 1), each in its own worker.
const queue = [...selected];
async function drain(): Promise<void> {
  for (let t = queue.shift(); t; t = queue.shift()) {
    const result = await runTarget(t.name);
    results.push(result);
    if (json) process.stdout.write(`${JSON.stringify({ suite: 'fuzz', about: t.about, ...result })}\n`);
    else
      process.stderr.write(
        `fuzz ${t.name}: ${result.inputs} inputs, ${result.crashes} crashes, ${result.hangs} hangs\n`,
      );
  }
}
await Promise.all(Array.from({ length: Math.max(1, parallel) }, drain));
const order = (r: TargetResult) => selected.findIndex((t) => t.name === r.target);
results.sort((a, b) => order(a) - order(b));

if (!json) {
  const header = ['target', 'inputs', 'crashes', 'hangs', 'slowest input', 'inputs/s', 'parses'];
  const rows = results.map((r) => [
    r.target,
    r.inputs.toLocaleString('en-US'),
    String(r.crashes),
    String(r.hangs),
    `${r.maxMs.toFixed(1)} ms`,
    Math.round(r.inputs / r.seconds).toLocaleString('en-US'),
    selected.find((t) => t.name === r.target)?.about ?? '',
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  process.stdout.write(`seed ${seed}, per-input bound ${boundMs} ms\n`);
  for (const r of results)
    for (const f of r.findings)
      process.stdout.write(
        `${r.target} input #${f.index}: ${f.error ?? `took ${f.ms?.toFixed(0)} ms`}\n  ${f.inputHex.slice(0, 400)}\n`,
      );
}
process.exitCode = results.some((r) => r.crashes > 0 || r.hangs > 0) ? 1 : 0;
