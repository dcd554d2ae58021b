/**
 * Store benchmark (issue 4): insert throughput of uplink-like documents in
 * batches of 500, same rows, same run —
 *   RxDB on Maverick's SQLite storage (WAL + synchronous=FULL)
 *   vs RxDB on its memory storage
 *   vs raw better-sqlite3 inserts (same rows as JSON, WAL + FULL, one transaction per batch);
 * bytes on disk per stored uplink (file incl. WAL after checkpoint ÷ docs);
 * and RxDB's own runPerformanceTests (rxdb/plugins/test-utils) on memory and ours, small config.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRxDatabase, fillWithDefaultSettings, randomToken } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { openMaverickDatabase } from '../kernel/store/open-database.js';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import { type CrashUplink, uplinkBatch, uplinkSchema } from '../test/fixtures/store-crash-uplinks.js';
import type { BenchFigure } from './figure.js';

const BATCH = 500;
const BATCHES = 30;

function fileBytes(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(`${file}${suffix}`).size;
    } catch {
      // No WAL after a clean close (checkpointed and removed).
    }
  }
  return total;
}

const batches = Array.from({ length: BATCHES }, (_, b) => uplinkBatch(b, BATCH));

async function timeRxdbInserts(insert: (docs: CrashUplink[]) => Promise<void>): Promise<number> {
  const start = performance.now();
  for (const docs of batches) await insert(structuredClone(docs));
  return (BATCH * BATCHES * 1000) / (performance.now() - start);
}

function timeRawSqlite(file: string): number {
  const require = createRequire(import.meta.url);
  type Db = {
    pragma(s: string): unknown;
    exec(s: string): void;
    prepare(s: string): { run(...a: unknown[]): unknown };
    transaction(fn: (docs: CrashUplink[]) => void): (docs: CrashUplink[]) => void;
    close(): void;
  };
  const Database = require('better-sqlite3') as new (file: string) => Db;
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE uplinks (id TEXT PRIMARY KEY, devEui TEXT, fCnt INTEGER, receivedAt INTEGER, data TEXT)',
  );
  const insert = db.prepare(
    'INSERT INTO uplinks (id, devEui, fCnt, receivedAt, data) VALUES (?, ?, ?, ?, ?)',
  );
  const writeBatch = db.transaction((docs: CrashUplink[]) => {
    for (const doc of docs) insert.run(doc.id, doc.devEui, doc.fCnt, doc.receivedAt, JSON.stringify(doc));
  });
  const start = performance.now();
  for (const docs of batches) writeBatch(docs);
  const rate = (BATCH * BATCHES * 1000) / (performance.now() - start);
  db.close();
  return rate;
}

type PerfStorage = Parameters<typeof import('rxdb/plugins/test-utils')['runPerformanceTests']>[0];

async function rxdbPerformance(
  storage: PerfStorage,
  label: string,
): Promise<Record<string, number | string>> {
  const { runPerformanceTests } = await import('rxdb/plugins/test-utils');
  return runPerformanceTests(storage, label, {
    runs: 3,
    docsAmount: 1200,
    serialDocsAmount: 20,
    collectionsAmount: 2,
    waitBetweenTests: 0,
    log: false,
  });
}

/** Runs a few batches through both RxDB paths first so the JIT has warmed RxDB's code for everyone. */
async function warmUp(directory: string): Promise<void> {
  const ours = await openMaverickDatabase({
    directory,
    name: 'warmup',
    collections: { uplinks: { schema: uplinkSchema } },
  });
  const memory = await createRxDatabase({
    name: `warm${randomToken(6)}`,
    storage: getRxStorageMemory(),
    multiInstance: false,
  });
  await memory.addCollections({ uplinks: { schema: uplinkSchema } });
  for (const docs of batches.slice(0, 4)) {
    await ours.uplinks.bulkInsert(structuredClone(docs));
    await memory.uplinks.bulkInsert(structuredClone(docs));
  }
  await ours.remove();
  await memory.remove();
}

export async function run(): Promise<BenchFigure[]> {
  const directory = mkdtempSync(join(tmpdir(), 'maverick-store-bench-'));
  try {
    await warmUp(directory);
    const ours = await openMaverickDatabase({
      directory,
      name: 'bench',
      collections: { uplinks: { schema: uplinkSchema } },
      synchronous: 'FULL',
    });
    const oursRate = await timeRxdbInserts(async (docs) => {
      await ours.uplinks.bulkInsert(docs);
    });
    await ours.close();
    const bytesPerUplink = fileBytes(join(directory, 'bench.sqlite')) / (BATCH * BATCHES);

    const memory = await createRxDatabase({
      name: `bench${randomToken(6)}`,
      storage: getRxStorageMemory(),
      multiInstance: false,
    });
    await memory.addCollections({ uplinks: { schema: uplinkSchema } });
    const memoryRate = await timeRxdbInserts(async (docs) => {
      await memory.uplinks.bulkInsert(docs);
    });
    await memory.remove();

    const rawFile = join(directory, 'raw.sqlite');
    const rawRate = timeRawSqlite(rawFile);
    const rawBytes = fileBytes(rawFile) / (BATCH * BATCHES);

    const figures: BenchFigure[] = [
      {
        name: `RxDB + Maverick SQLite storage insert (WAL, synchronous=FULL, batches of ${BATCH})`,
        value: oursRate,
        unit: 'docs/s',
        baseline: { name: 'RxDB memory storage', value: memoryRate },
        ratio: oursRate / memoryRate,
      },
      {
        name: 'RxDB + Maverick SQLite storage vs raw better-sqlite3 inserts (same rows, same fsync policy)',
        value: oursRate,
        unit: 'docs/s',
        baseline: { name: 'raw better-sqlite3, one transaction per batch', value: rawRate },
        ratio: oursRate / rawRate,
      },
      {
        name: 'bytes on disk per stored uplink (file + WAL after checkpoint)',
        value: bytesPerUplink,
        unit: 'bytes/uplink',
        baseline: { name: 'raw SQLite, JSON row + primary key only', value: rawBytes },
        ratio: bytesPerUplink / rawBytes,
        note: `ours also stores one key column + SQLite index per RxDB index (${fillWithDefaultSettings(uplinkSchema).indexes?.length} here)`,
      },
    ];

    const memoryPerf = await rxdbPerformance(getRxStorageMemory(), 'memory');
    const oursPerf = await rxdbPerformance(
      getRxStorageSqlite({ directory: join(directory, 'perf') }),
      'maverick-sqlite',
    );
    for (const [key, value] of Object.entries(oursPerf)) {
      const reference = memoryPerf[key];
      if (typeof value !== 'number' || typeof reference !== 'number' || key.endsWith('Amount')) continue;
      figures.push({
        name: `rxdb runPerformanceTests: ${key}`,
        value,
        unit: 'ms',
        baseline: { name: 'memory storage', value: reference },
        ratio: reference > 0 ? value / reference : undefined,
        note: '3 runs, 1200 docs, 2 collections; lower is better',
      });
    }
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
