import fc from 'fast-check';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { UplinkIngestor, type UplinkRecord } from './ingest.js';
import { deviceSeries } from './uplink-series.js';

const DEV = '0011223344556677';
const T0 = 1_700_000_000_000;
let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

function record(fCnt: number, atMs: number, temperature: number, rssi: number): UplinkRecord {
  return {
    devEui: DEV,
    devAddr: '26011bda',
    applicationId: 'farm',
    fCnt,
    fPort: 2,
    confirmed: false,
    adr: true,
    dr: 5,
    phyPayload: Uint8Array.from([0x40, 1, 2, 3]),
    object: { temperatureSensor: { '1': temperature } },
    rxInfo: [{ gatewayEui: '0102030405060708', rssi, snr: 5, tmst: 1 }],
    frequencyHz: 868_100_000,
    receivedAtMs: atMs,
    time: new Date(atMs).toISOString(),
    timeSource: 'host-unsynced',
  };
}

async function store(records: UplinkRecord[]): Promise<FarmDatabase> {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `series${n++}` });
  const ingest = new UplinkIngestor(db, { maxBatch: 1000 });
  await Promise.all(records.map((r) => ingest.store(r)));
  await ingest.close();
  return db;
}

describe('deviceSeries', () => {
  it('answers point by point when the window holds no more uplinks than buckets, and finds FCnt gaps', async () => {
    const farm = await store([
      record(0, T0, 21.35, -80),
      record(1, T0 + 60_000, 21.5, -90),
      record(4, T0 + 120_000, 22, -85),
    ]);
    const s = await deviceSeries(farm, {
      devEui: DEV,
      sinceMs: T0 - 1000,
      untilMs: T0 + 200_000,
      buckets: 10,
    });
    expect(s.t).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    expect(s.fields['temperatureSensor.1']).toEqual([21.35, 21.5, 22]);
    expect(s.fields.rssi).toEqual([-80, -90, -85]);
    expect(s.bucketMs).toBe(0);
    expect(s.gaps).toEqual([{ afterFCnt: 1, missing: 2, atMs: T0 + 120_000 }]);
  });

  it('averages into equal buckets like a plain loop over the same uplinks (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            offset: fc.integer({ min: 0, max: 86_399_999 }),
            t: fc.integer({ min: -400, max: 400 }),
            rssi: fc.integer({ min: -130, max: -20 }),
          }),
          {
            minLength: 6,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 5 }),
        async (points, buckets) => {
          const records = points.map((p, i) => record(i, T0 + p.offset, p.t / 10, p.rssi));
          const farm = await store(records);
          const since = T0;
          const until = T0 + 86_400_000;
          const s = await deviceSeries(farm, { devEui: DEV, sinceMs: since, untilMs: until, buckets });
          await farm.close();
          db = undefined;
          // Oracle: group by bucket index with the same width, average each field.
          const width = Math.ceil((until - since) / buckets);
          const groups = new Map<number, { t: number[]; rssi: number[] }>();
          for (const p of points) {
            const slot = Math.min(buckets - 1, Math.floor(p.offset / width));
            const g = groups.get(slot) ?? { t: [], rssi: [] };
            g.t.push(p.t / 10);
            g.rssi.push(p.rssi);
            groups.set(slot, g);
          }
          const slots = [...groups.keys()].sort((a, b) => a - b);
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          expect(s.uplinks).toBe(points.length);
          expect(s.t).toEqual(slots.map((k) => since + k * width + Math.floor(width / 2)));
          const temps = s.fields['temperatureSensor.1'] ?? [];
          slots.forEach((k, i) => {
            expect(temps[i]).toBeCloseTo(mean(groups.get(k)?.t ?? []), 9);
            expect(s.fields.rssi?.[i]).toBeCloseTo(mean(groups.get(k)?.rssi ?? []), 9);
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});
