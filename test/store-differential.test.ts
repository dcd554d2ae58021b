/**
 * Differential test: the same generated operation sequences run against RxDB's
 * memory storage (the reference) and Maverick's SQLite storage must give the
 * same results — write conflicts, ids and order of query results, counts,
 * change events, the changed-documents feed — first through the
 * RxStorageInstance API, then through RxDatabase/RxCollection.
 *
 * rxdb 17's `rxdb/plugins/test-utils` exports no storage test-suite runner
 * (its storage suite lives in RxDB's repository tests), so this test is the
 * conformance check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  type BulkWriteRow,
  createRxDatabase,
  fillWithDefaultSettings,
  getChangedDocumentsSince,
  type MangoQuery,
  normalizeMangoQuery,
  prepareQuery,
  type RxDocumentData,
  type RxJsonSchema,
  type RxStorage,
  type RxStorageBulkWriteResponse,
  type RxStorageInstance,
  randomToken,
} from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import {
  type ProbeDoc,
  probeFields,
  probeId,
  probeSchema,
  queryArb,
  writeRowArb,
} from './fixtures/store-differential-model.js';

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'maverick-store-diff-'));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const schema = fillWithDefaultSettings(probeSchema) as RxJsonSchema<RxDocumentData<ProbeDoc>>;
// biome-ignore lint/suspicious/noExplicitAny: RxDB's storage types are generic over internals we do not inspect here.
type AnyInstance = RxStorageInstance<ProbeDoc, any, any, any>;

const operationArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      rows: fc.array(writeRowArb, { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('query' as const), query: queryArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('findById' as const),
      ids: fc.array(probeId, { maxLength: 4 }),
      withDeleted: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('changes' as const), limit: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cleanup' as const }) },
);

async function createPair(): Promise<[AnyInstance, AnyInstance]> {
  const databaseName = `diff${randomToken(8).toLowerCase()}`;
  const params = {
    databaseInstanceToken: randomToken(10),
    databaseName,
    collectionName: 'probes',
    schema,
    options: {},
    multiInstance: false,
    devMode: false,
  };
  const memory = await getRxStorageMemory().createStorageInstance<ProbeDoc>(params);
  const sqlite = await getRxStorageSqlite({ directory }).createStorageInstance<ProbeDoc>(params);
  return [memory, sqlite];
}

function conflictSummary(response: RxStorageBulkWriteResponse<ProbeDoc>) {
  return response.error
    .map((error) => ({
      id: error.documentId,
      status: error.status,
      revInDb: 'documentInDb' in error ? error.documentInDb?._rev : undefined,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Turns generated rows into one bulkWrite, using the reference's current state for previous revisions. */
function buildWrite(
  rows: WriteRowInput[],
  current: Map<string, RxDocumentData<ProbeDoc>>,
  clock: { lwt: number },
): BulkWriteRow<ProbeDoc>[] {
  const seen = new Set<string>();
  const writes: BulkWriteRow<ProbeDoc>[] = [];
  for (const { id, fields, mode } of rows) {
    if (seen.has(id)) continue;
    seen.add(id);
    const previous = current.get(id);
    clock.lwt += 1.5;
    const height = previous ? Number.parseInt(previous._rev, 10) + 1 : 1;
    const base = { ...fields, id, _attachments: {}, _meta: { lwt: clock.lwt } };
    if (mode === 'insert' || !previous) {
      writes.push({ document: { ...base, _deleted: false, _rev: `${height}-w${clock.lwt}` } });
    } else if (mode === 'stale') {
      writes.push({
        previous: { ...previous, _rev: `${height - 1}-stale` },
        document: { ...base, _deleted: false, _rev: `${height}-s${clock.lwt}` },
      });
    } else {
      writes.push({
        previous,
        document: {
          ...(mode === 'delete' ? previous : base),
          _meta: { lwt: clock.lwt },
          _deleted: mode === 'delete',
          _rev: `${height}-u${clock.lwt}`,
        },
      });
    }
  }
  return writes;
}

type WriteRowInput = typeof writeRowArb extends fc.Arbitrary<infer T> ? T : never;

const ids = (docs: readonly RxDocumentData<ProbeDoc>[]) => docs.map((doc) => doc.id);

describe('SQLite storage vs RxDB memory storage (RxStorageInstance API)', () => {
  it('gives identical results for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operationArb, { minLength: 1, maxLength: 30 }), async (operations) => {
        const [memory, sqlite] = await createPair();
        const events: Record<'memory' | 'sqlite', string[]> = { memory: [], sqlite: [] };
        const subscriptions = [
          memory
            .changeStream()
            .subscribe((bulk) =>
              events.memory.push(...bulk.events.map((e) => `${e.operation}:${e.documentId}`)),
            ),
          sqlite
            .changeStream()
            .subscribe((bulk) =>
              events.sqlite.push(...bulk.events.map((e) => `${e.operation}:${e.documentId}`)),
            ),
        ];
        const clock = { lwt: 1000 };
        try {
          for (const operation of operations) {
            if (operation.kind === 'write') {
              const allIds = operation.rows.map((row) => row.id);
              const current = new Map(
                (await memory.findDocumentsById(allIds, true)).map((doc) => [doc.id, doc]),
              );
              const writes = buildWrite(operation.rows, current, clock);
              const expected = await memory.bulkWrite(structuredClone(writes), 'diff');
              const actual = await sqlite.bulkWrite(structuredClone(writes), 'diff');
              expect(conflictSummary(actual)).toEqual(conflictSummary(expected));
            } else if (operation.kind === 'query') {
              const prepared = prepareQuery(
                schema,
                normalizeMangoQuery(schema, operation.query as MangoQuery<RxDocumentData<ProbeDoc>>),
              );
              const expected = await memory.query(prepared);
              const actual = await sqlite.query(prepared);
              expect(ids(actual.documents)).toEqual(ids(expected.documents));
              expect(actual.documents).toEqual(expected.documents);
              const countQuery = { ...operation.query, skip: undefined, limit: undefined } as MangoQuery<
                RxDocumentData<ProbeDoc>
              >;
              const preparedCount = prepareQuery(schema, normalizeMangoQuery(schema, countQuery));
              expect((await sqlite.count(preparedCount)).count).toBe(
                (await memory.count(preparedCount)).count,
              );
            } else if (operation.kind === 'findById') {
              const expected = await memory.findDocumentsById(operation.ids, operation.withDeleted);
              const actual = await sqlite.findDocumentsById(operation.ids, operation.withDeleted);
              expect(actual).toEqual(expected);
            } else if (operation.kind === 'changes') {
              // Page through the whole feed; memory has no native method, so RxDB's query fallback is the reference.
              let expectedCheckpoint: unknown;
              let actualCheckpoint: unknown;
              for (let page = 0; page < 100; page++) {
                const expected = await getChangedDocumentsSince(memory, operation.limit, expectedCheckpoint);
                const actual = await sqlite.getChangedDocumentsSince!(operation.limit, actualCheckpoint);
                expect(ids(actual.documents)).toEqual(ids(expected.documents));
                expect(actual.checkpoint).toEqual(expected.checkpoint);
                expectedCheckpoint = expected.checkpoint;
                actualCheckpoint = actual.checkpoint;
                if (expected.documents.length < operation.limit) break;
              }
            } else {
              expect(await sqlite.cleanup(0)).toBe(await memory.cleanup(0));
            }
          }
          const everything = prepareQuery(schema, normalizeMangoQuery(schema, { selector: {} }));
          expect(ids((await sqlite.query(everything)).documents)).toEqual(
            ids((await memory.query(everything)).documents),
          );
          expect(events.sqlite).toEqual(events.memory);
        } finally {
          for (const subscription of subscriptions) subscription.unsubscribe();
          await memory.remove();
          await sqlite.remove();
        }
      }),
      { numRuns: 60 },
    );
  });
});

type CollectionOperation =
  | { kind: 'insert'; docs: ProbeDoc[] }
  | { kind: 'upsert'; doc: ProbeDoc }
  | { kind: 'patch'; id: string; value: number }
  | { kind: 'remove'; id: string }
  | { kind: 'find'; query: MangoQuery<ProbeDoc> };

const probeDocArb = fc.tuple(probeId, probeFields).map(([id, fields]) => ({ ...fields, id }) as ProbeDoc);
const collectionOperationArb: fc.Arbitrary<CollectionOperation> = fc.oneof(
  fc
    .uniqueArray(probeDocArb, { minLength: 1, maxLength: 5, selector: (doc) => doc.id })
    .map((docs) => ({ kind: 'insert' as const, docs })),
  probeDocArb.map((doc) => ({ kind: 'upsert' as const, doc })),
  fc
    .tuple(probeId, fc.integer({ min: -1000, max: 1000 }))
    .map(([id, value]) => ({ kind: 'patch' as const, id, value })),
  probeId.map((id) => ({ kind: 'remove' as const, id })),
  queryArb.map((query) => ({ kind: 'find' as const, query })),
);

// biome-ignore lint/suspicious/noExplicitAny: see AnyInstance.
async function openProbeDatabase(storage: RxStorage<any, any>, name: string) {
  const database = await createRxDatabase({ name, storage, multiInstance: false, eventReduce: true });
  await database.addCollections({ probes: { schema: probeSchema } });
  return database;
}

describe('SQLite storage vs RxDB memory storage (RxDatabase / RxCollection)', () => {
  it('gives identical collection results', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(collectionOperationArb, { minLength: 1, maxLength: 15 }),
        async (operations) => {
          const name = `coll${randomToken(8).toLowerCase()}`;
          const reference = await openProbeDatabase(getRxStorageMemory(), name);
          const ours = await openProbeDatabase(getRxStorageSqlite({ directory }), name);
          try {
            for (const operation of operations) {
              const outcomes = [];
              for (const database of [reference, ours]) {
                const probes = database.probes;
                if (operation.kind === 'insert') {
                  const result = await probes.bulkInsert(structuredClone(operation.docs));
                  outcomes.push({
                    ok: result.success.map((doc) => doc.id),
                    errors: result.error.map((e) => [e.documentId, e.status]),
                  });
                } else if (operation.kind === 'upsert') {
                  outcomes.push((await probes.upsert(structuredClone(operation.doc))).toJSON());
                } else if (operation.kind === 'patch') {
                  const doc = await probes.findOne(operation.id).exec();
                  outcomes.push(
                    doc ? (await doc.incrementalPatch({ value: operation.value / 100 })).toJSON() : null,
                  );
                } else if (operation.kind === 'remove') {
                  const doc = await probes.findOne(operation.id).exec();
                  outcomes.push(doc ? (await doc.remove()).toJSON(true)._deleted : null);
                } else {
                  const docs = await probes.find(operation.query).exec();
                  const { skip: _skip, limit: _limit, ...countable } = operation.query;
                  outcomes.push({
                    docs: docs.map((doc) => doc.toJSON()),
                    count: await probes.count(countable).exec(),
                  });
                }
              }
              expect(outcomes[1]).toEqual(outcomes[0]);
            }
          } finally {
            await reference.remove();
            await ours.remove();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
