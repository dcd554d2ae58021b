/**
 * kill -9 test: a child process ingests uplink batches through RxDB on the
 * SQLite storage and reports each committed batch; the parent SIGKILLs it at
 * seeded random moments (during open/WAL recovery and during writes),
 * restarts it from a little before the last reported batch (so retries
 * happen), and finally checks that every reported batch is fully present,
 * nothing is duplicated or foreign, and `PRAGMA integrity_check` says ok.
 *
 * Seed: MAVERICK_CRASH_SEED (default fixed); rounds: MAVERICK_CRASH_ROUNDS (default 20).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openMaverickDatabase } from '../kernel/store/open-database.js';
import { acquireSqliteConnection } from '../kernel/store/sqlite-driver.js';
import { type CrashUplink, uplinkBatch, uplinkSchema } from './fixtures/store-crash-uplinks.js';

const childScript = resolve(import.meta.dirname, 'fixtures/store-crash-child.ts');
const seed = Number(process.env.MAVERICK_CRASH_SEED ?? 20261121);
const rounds = Number(process.env.MAVERICK_CRASH_ROUNDS ?? 20);
const BATCH_SIZE = 200;
const BATCHES_PER_RUN = 400;

/** mulberry32: a tiny seeded PRNG so a failing schedule can be replayed. */
function prng(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let directory: string | undefined;
const writers = new Set<ChildProcess>();
afterEach(() => {
  for (const proc of writers) proc.kill('SIGKILL');
  writers.clear();
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

interface RoundResult {
  committed: number[];
  killed: boolean;
  stderr: string;
}

interface Writer {
  proc: ChildProcess;
  onLine: (line: string) => void;
  stderr: string;
  closed: Promise<NodeJS.Signals | null>;
}

/**
 * Spawns a writer that loads its modules and then waits for `go FIRST` on
 * stdin. The next round's writer is spawned while the current one runs, so
 * module loading (seconds on a busy 2-core box) overlaps the previous round;
 * only one writer ever touches the database at a time.
 */
function spawnWriter(dir: string): Writer {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', childScript, dir, String(BATCHES_PER_RUN), String(BATCH_SIZE)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MAVERICK_LOG_LEVEL: 'warn' } },
  );
  writers.add(proc);
  let buffered = '';
  const writer: Writer = {
    proc,
    onLine: () => {},
    stderr: '',
    closed: new Promise((resolveClosed, rejectClosed) => {
      proc.on('error', rejectClosed);
      proc.on('close', (_code, signal) => {
        writers.delete(proc);
        resolveClosed(signal);
      });
    }),
  };
  proc.stdin?.on('error', () => {}); // a writer killed before `go` closes its stdin
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) writer.onLine(line);
  });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    writer.stderr += chunk;
  });
  return writer;
}

/** Lets the writer start at batch `first`, kills it `killAfterMs` after `go` (or after `ready`), collects reported batches. */
async function runRound(
  writer: Writer,
  first: number,
  killAfterMs: number,
  afterReady: boolean,
): Promise<RoundResult> {
  const committed: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const kill = () => writer.proc.kill('SIGKILL');
  writer.onLine = (line) => {
    const match = /^committed (\d+)$/.exec(line);
    if (match) committed.push(Number(match[1]));
    if (line === 'ready' && afterReady) timer = setTimeout(kill, killAfterMs);
  };
  writer.proc.stdin?.write(`go ${first}\n`);
  if (!afterReady) timer = setTimeout(kill, killAfterMs);
  const watchdog = setTimeout(kill, 30_000);
  const signal = await writer.closed;
  clearTimeout(timer);
  clearTimeout(watchdog);
  return { committed, killed: signal === 'SIGKILL', stderr: writer.stderr };
}

describe('store survives kill -9', () => {
  it(`loses no acknowledged batch over ${rounds} SIGKILL rounds`, async () => {
    directory = mkdtempSync(join(tmpdir(), 'maverick-store-crash-'));
    const random = prng(seed);
    const acknowledged = new Set<number>();
    let highestAttempted = -1;
    let kills = 0;
    let writer = spawnWriter(directory);
    for (let round = 0; round < rounds; round++) {
      const lastAcknowledged = acknowledged.size > 0 ? Math.max(...acknowledged) : -1;
      // Restart two batches early: those re-sends must be no-ops.
      const first = Math.max(0, lastAcknowledged - 1);
      const afterReady = random() < 0.8;
      // Before `ready` = during open and WAL recovery; after = during writes.
      const killAfterMs = Math.floor(random() * (afterReady ? 200 : 400));
      const current = writer;
      if (round + 1 < rounds) writer = spawnWriter(directory);
      const result = await runRound(current, first, killAfterMs, afterReady);
      expect(result.stderr, `round ${round} child stderr`).not.toMatch(/unexpected write errors|Error/);
      for (const batch of result.committed) acknowledged.add(batch);
      // A batch may have committed without being reported; it was attempted either way.
      highestAttempted = Math.max(highestAttempted, first + result.committed.length);
      if (result.killed) kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(Math.floor(rounds * 0.8));
    expect(acknowledged.size).toBeGreaterThan(0);

    const database = await openMaverickDatabase({
      directory,
      name: 'crash',
      collections: { uplinks: { schema: uplinkSchema } },
    });
    try {
      const stored = (await database.uplinks.find().exec()).map((doc) => doc.toJSON() as CrashUplink);
      const byId = new Map(stored.map((doc) => [doc.id, doc]));
      expect(byId.size).toBe(stored.length);
      for (const batch of acknowledged) {
        for (const expected of uplinkBatch(batch, BATCH_SIZE)) {
          expect(byId.get(expected.id), `batch ${batch} lost ${expected.id}`).toEqual(expected);
        }
      }
      // Nothing foreign: every stored document is one of the attempted batches, intact.
      const expectedBatches = new Map<number, Map<string, CrashUplink>>();
      for (const doc of stored) {
        expect(doc.batch).toBeLessThanOrEqual(highestAttempted);
        let expected = expectedBatches.get(doc.batch);
        if (!expected) {
          expected = new Map(uplinkBatch(doc.batch, BATCH_SIZE).map((uplink) => [uplink.id, uplink]));
          expectedBatches.set(doc.batch, expected);
        }
        expect(expected.get(doc.id)).toEqual(doc);
      }
      // Whole batches only: one bulkWrite is one transaction.
      const perBatch = new Map<number, number>();
      for (const doc of stored) perBatch.set(doc.batch, (perBatch.get(doc.batch) ?? 0) + 1);
      for (const count of perBatch.values()) expect(count).toBe(BATCH_SIZE);

      const connection = await acquireSqliteConnection(join(directory, 'crash.sqlite'));
      try {
        expect(connection.pragma('integrity_check')).toBe('ok');
      } finally {
        connection.release();
      }
    } finally {
      await database.close();
    }
  }, 240_000);
});
