import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { boundChangeEventBuffers } from './change-event-buffer.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';

let db: FarmDatabase | undefined;
let counter = 0;

afterEach(async () => {
  await db?.close();
  db = undefined;
});

const kvDocs = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    key: `k${from + i}`,
    value: { n: from + i },
    updatedAt: from + i,
  }));

describe('boundChangeEventBuffers', () => {
  it('keeps a collection at its last 100 change events after one write of 300, and queries stay right', async () => {
    db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `ceb${counter++}` });
    const query = db.kv.find({ sort: [{ key: 'asc' }] });
    expect(await query.exec()).toHaveLength(0);
    await db.kv.bulkInsert(kvDocs(0, 300));
    const buffer = db.kv._changeEventBuffer.getBuffer();
    expect(buffer).toHaveLength(100);
    // The newest events are the ones kept.
    expect(buffer.at(-1)?.documentId).toBe('k299');
    expect(buffer[0]?.documentId).toBe('k200');
    // A query run before the write (older than the buffer) runs again and sees every document.
    expect((await query.exec()).map((d) => d.key)).toHaveLength(300);
    await db.kv.bulkInsert(kvDocs(300, 5));
    expect(db.kv._changeEventBuffer.getBuffer()).toHaveLength(100);
    expect(await query.exec()).toHaveLength(305);
  });

  it('bounds every farm collection, and leaves a shape it does not know alone', async () => {
    db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `ceb${counter++}` });
    expect(boundChangeEventBuffers(Object.values(db.collections))).toBe(7);
    expect(boundChangeEventBuffers([{} as never, { _changeEventBuffer: { buffer: [] } } as never])).toBe(0);
  });
});
