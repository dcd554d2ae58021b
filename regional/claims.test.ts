import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortUplinks } from '../proto/bundle/columnar.js';
import { summarizeDevices } from '../proto/bundle/payload.js';
import type { PlotDefinition, TimeSource, UplinkRecord } from '../proto/bundle/types.js';
import { claimsFromCbor, claimsToCbor, fixedText, recordAgainstClaims } from '../proto/evidence/claims.js';
import { computeClaims, insidePolygon } from './claims.js';

const square: PlotDefinition = {
  areaM2: 50_000,
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [0, 0],
        [1000, 0],
        [1000, 1000],
        [0, 1000],
        [0, 0],
      ],
    ],
  },
};
const DAY = 86_400_000;
const from = 20 * DAY;
const to = 22 * DAY - 1;

const record = fc.record({
  dev: fc.integer({ min: 1, max: 3 }),
  session: fc.integer({ min: 0, max: 1 }),
  fCnt: fc.integer({ min: 0, max: 60 }),
  at: fc.integer({ min: from, max: to }),
  source: fc.constantFrom<TimeSource>('gps', 'ntp', 'host-unsynced'),
  temp: fc.integer({ min: -500, max: 500 }),
  tempScale: fc.constantFrom(-1, -2, 0),
});

type RawRecord = typeof record extends fc.Arbitrary<infer T> ? T : never;

function toUplink(r: RawRecord): UplinkRecord {
  return {
    devEui: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, r.dev),
    plotId: 'p1',
    fCnt: r.fCnt,
    session: r.session,
    receivedAt: r.at,
    timeSource: r.source,
    readings: [{ field: 'temperature', value: r.temp, scale: r.tempScale }],
  };
}

const claimsOf = (records: UplinkRecord[]) =>
  computeClaims({
    plotId: 'p1',
    from,
    to,
    records,
    definition: square,
    committedLeaves: records.length,
    sources: [],
  });

describe('plot claims', () => {
  it('counts, ranges and FCnt gaps agree with independent oracles (property)', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 80 }), (raw) => {
        // Distinct (device, session, fCnt): one frame is one record.
        const seen = new Set<string>();
        const uplinks = raw
          .filter(
            (r) =>
              !seen.has(`${r.dev}/${r.session}/${r.fCnt}`) && seen.add(`${r.dev}/${r.session}/${r.fCnt}`),
          )
          .map(toUplink);
        const c = claimsOf(uplinks);
        const values = uplinks.map(
          (u) => (u.readings[0]?.value as number) * 10 ** (u.readings[0]?.scale as number),
        );
        const temp = c.fields[0];
        expect(temp?.count).toBe(uplinks.length);
        expect(Number(fixedText(temp?.min as never))).toBeCloseTo(Math.min(...values), 9);
        expect(Number(fixedText(temp?.max as never))).toBeCloseTo(Math.max(...values), 9);
        const summaries = summarizeDevices(sortUplinks(uplinks, () => 0));
        const ranges = summaries.flatMap((d) => d.missingFCnt);
        expect(c.fCnt.gaps).toBe(ranges.length);
        expect(c.fCnt.missing).toBe(ranges.reduce((s, [a, b]) => s + b - a + 1, 0));
        expect(c.fCnt.resets).toBe(summaries.reduce((s, d) => s + d.counterResets, 0));
        expect(c.devices).toHaveLength(new Set(uplinks.map((u) => u.devEui[7])).size);
        expect(c.timeSources.gps + c.timeSources.ntp + c.timeSources.unsynced).toBe(uplinks.length);
        expect(c.hourOfDay.reduce((s, n) => s + n, 0)).toBe(uplinks.length);
        expect(c.daysCovered).toBe(new Set(uplinks.map((u) => Math.floor(u.receivedAt / DAY))).size);
        expect(claimsFromCbor(claimsToCbor(c))).toEqual(c);
        for (const u of uplinks) expect(recordAgainstClaims({ ...u, time: u.receivedAt }, c)).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('states the period coverage: two days, 48 hours', () => {
    const c = claimsOf([
      toUplink({
        dev: 1,
        session: 0,
        fCnt: 1,
        at: from + 3_600_000 * 5,
        source: 'gps',
        temp: 1,
        tempScale: 0,
      }),
    ]);
    expect([c.days, c.daysCovered, c.hours, c.hoursCovered]).toEqual([2, 1, 48, 1]);
    expect(c.hourOfDay[5]).toBe(1);
  });

  it('counts positions inside the plot polygon', () => {
    const at = (lon: number, lat: number): UplinkRecord => ({
      ...toUplink({ dev: 1, session: 0, fCnt: lon, at: from, source: 'gps', temp: 0, tempScale: 0 }),
      readings: [
        { field: 'gps.latitude', value: lat, scale: -6 },
        { field: 'gps.longitude', value: lon, scale: -6 },
      ],
    });
    const c = claimsOf([at(500, 500), at(999, 1), at(1500, 500), at(-1, 500)]);
    expect(c.positions).toEqual({ count: 4, insidePlot: 2 });
    expect(insidePolygon([500, 500], square.geometry.coordinates as never)).toBe(true);
  });

  it('a disclosed record outside the claimed range or period is named', () => {
    const u = toUplink({ dev: 1, session: 0, fCnt: 1, at: from, source: 'gps', temp: 100, tempScale: -1 });
    const c = claimsOf([u]);
    expect(
      recordAgainstClaims(
        { ...u, time: u.receivedAt, readings: [{ field: 'temperature', value: 101, scale: -1 }] },
        c,
      ),
    ).toMatch(/temperature = 10.1 lies outside the claimed \[10.0, 10.0\]/);
    expect(recordAgainstClaims({ ...u, time: to + 1 }, c)).toMatch(/outside the claimed period/);
    expect(recordAgainstClaims({ ...u, time: u.receivedAt, devEui: new Uint8Array(8) }, c)).toMatch(
      /not among the claimed devices/,
    );
    expect(fixedText({ value: -5, scale: -3 })).toBe('-0.005');
  });
});
