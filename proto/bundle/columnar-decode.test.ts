/**
 * The strict telemetry decoder against the encoder as its oracle: every block encodeTelemetry
 * writes decodes to its records, and whatever the decoder accepts, mutated however, is exactly
 * the block encodeTelemetry writes for what it decoded (one byte form per content).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { type CborMap, type CborValue, encodeCbor } from './cbor-encode.js';
import { encodeTelemetry, sortUplinks } from './columnar.js';
import { decodeTelemetry } from './columnar-decode.js';
import type { BundleFormatVersion, UplinkRecord } from './types.js';
import { VarintWriter } from './varint.js';

const PLOTS = ['plot-a', 'plot-b'];
const plotIndex = (id: string): number => PLOTS.indexOf(id);
const FIELDS = [
  { field: 'battery', scale: 0 },
  { field: 'temperature', scale: -2 },
  { field: 'temperature', scale: -1 },
  { field: 'soil', scale: -1 },
];

const recordArb = (version: BundleFormatVersion) =>
  fc.record({
    device: fc.nat(3),
    plot: fc.constantFrom(null, 'plot-a', 'plot-b'),
    fCnt: fc.oneof(fc.nat(40), fc.constant(0xffffffff)),
    session: version === 1 ? fc.constant(0) : fc.nat(2),
    receivedAt: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
    timeSource: fc.constantFrom('gps' as const, 'ntp' as const, 'host-unsynced' as const),
    fields: fc.subarray([0, 1, 2, 3]),
    values: fc.array(fc.integer({ min: -(2 ** 51), max: 2 ** 51 }), { minLength: 4, maxLength: 4 }),
  });

type RawRecord = ReturnType<typeof recordArb> extends fc.Arbitrary<infer R> ? R : never;

/** Records without exact repeats (the encoder refuses those), as a gateway would seal them. */
function recordsOf(raw: readonly RawRecord[]): UplinkRecord[] {
  const seen = new Set<string>();
  const out: UplinkRecord[] = [];
  for (const r of raw) {
    const key = `${r.device}/${r.plot}/${r.receivedAt}/${r.session}/${r.fCnt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      devEui: Uint8Array.of(0x70, 0xb3, 0, 0, 0, 0, 0, r.device),
      plotId: r.plot,
      fCnt: r.fCnt,
      session: r.session,
      receivedAt: r.receivedAt,
      timeSource: r.timeSource,
      readings: r.fields.map((f, i) => ({
        ...(FIELDS[f] as (typeof FIELDS)[0]),
        value: r.values[i] as number,
      })),
    });
  }
  return out;
}

const blockOf = (records: UplinkRecord[], version: BundleFormatVersion): CborMap =>
  encodeTelemetry(sortUplinks(records, plotIndex), plotIndex, version);

/** The one form the encoder gives what was decoded. */
const reencoded = (uplinks: UplinkRecord[], version: BundleFormatVersion): Uint8Array =>
  encodeCbor(blockOf(uplinks, version));

/** Every node of a block, as the path of indices (map keys by their order) that leads to it. */
function nodePaths(value: CborValue, prefix: number[] = []): number[][] {
  const children = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : [];
  return [prefix, ...children.flatMap((child, i) => nodePaths(child, [...prefix, i]))];
}

/**
 * A deep copy with one node changed (any node, chosen by `pick`): what a forger or a broken
 * encoder might send. Arrays lose, repeat or swap an element or grow a presence bitmap;
 * numbers, byte strings and text change their value.
 */
function mutate(value: CborValue, pick: number, change: number): CborValue {
  const paths = nodePaths(value);
  return mutateAt(value, paths[pick % paths.length] as number[], change);
}

function mutateAt(value: CborValue, path: number[], change: number): CborValue {
  if (path.length === 0) return Array.isArray(value) ? changedArray(value, change) : changed(value, change);
  const [step, ...rest] = path as [number, ...number[]];
  if (value instanceof Map) {
    const key = [...value.keys()][step];
    return new Map([...value].map(([k, v]) => [k, k === key ? mutateAt(v, rest, change) : v]));
  }
  return (value as CborValue[]).map((v, j) => (j === step ? mutateAt(v, rest, change) : v));
}

function changedArray(value: CborValue[], change: number): CborValue {
  const i = value.length === 0 ? 0 : change % value.length;
  switch (change % 5) {
    case 0:
      return value.filter((_, j) => j !== i); // drop an element
    case 1:
      return [...value.slice(0, i + 1), ...value.slice(i)]; // repeat one
    case 2: {
      const j = (i + 1) % Math.max(1, value.length);
      const swapped = [...value];
      [swapped[i], swapped[j]] = [value[j] as CborValue, value[i] as CborValue];
      return swapped;
    }
    default:
      // Append a presence bitmap: every row of a one-row block, or every bit.
      return [...value, Uint8Array.of(change % 2 === 0 ? 0x80 : 0xff)];
  }
}

function changed(value: CborValue, change: number): CborValue {
  if (typeof value === 'number') return [value + 1, value - 1, 0, change][change % 4] as number;
  if (value instanceof Uint8Array) {
    const copy = Uint8Array.from(value);
    if (change % 3 === 0 && copy.length > 0) {
      const at = change % copy.length;
      copy[at] = (copy[at] as number) ^ (1 << (change % 8));
      return copy;
    }
    if (change % 3 === 1) return Uint8Array.of(...value, change & 0xff);
    if (change % 5 === 2 && copy.length > 0) {
      // Set a low bit of the last byte: where a presence bitmap's unused bits are.
      copy[copy.length - 1] = (copy[copy.length - 1] as number) | (1 << (change % 3));
      return copy;
    }
    return value.subarray(0, Math.max(0, value.length - 1));
  }
  if (value === null) return change % 2;
  if (typeof value === 'string') return `${value}x`;
  return value;
}

describe('strict telemetry decoder (BUNDLE.md §5) against the encoder', () => {
  for (const version of [1, 2] as const) {
    it(`decodes every block the encoder writes to its records in canonical order (format ${version}, property)`, () => {
      fc.assert(
        fc.property(fc.array(recordArb(version), { minLength: 1, maxLength: 40 }), (raw) => {
          const records = recordsOf(raw);
          const decoded = decodeTelemetry(blockOf(records, version), PLOTS, version);
          const sorted = sortUplinks(records, plotIndex);
          expect(decoded).toHaveLength(sorted.length);
          decoded.forEach((u, i) => {
            const r = sorted[i] as UplinkRecord;
            expect(u.fCnt).toBe(r.fCnt);
            expect(u.receivedAt).toBe(r.receivedAt);
            expect(u.session ?? 0).toBe(r.session ?? 0);
            expect(u.timeSource).toBe(r.timeSource);
            expect(u.plotId).toBe(r.plotId);
            expect(new Set(u.readings.map((x) => `${x.field}/${x.scale}/${x.value}`))).toEqual(
              new Set(r.readings.map((x) => `${x.field}/${x.scale}/${x.value}`)),
            );
          });
          expect(Buffer.from(reencoded(decoded, version))).toEqual(
            Buffer.from(encodeCbor(blockOf(records, version))),
          );
        }),
        { numRuns: 150 },
      );
    });

    it(`accepts a changed block only in the encoder's one form for what it decodes (format ${version}, property)`, () => {
      let accepted = 0;
      let refused = 0;
      fc.assert(
        fc.property(
          fc.array(recordArb(version), { minLength: 1, maxLength: 24 }),
          fc.nat(),
          fc.nat(),
          (raw, pick, change) => {
            const block = mutate(blockOf(recordsOf(raw), version), pick, change);
            let uplinks: UplinkRecord[];
            try {
              uplinks = decodeTelemetry(block, PLOTS, version);
            } catch (err) {
              expect(
                isMaverickError(err, ErrorCode.BundleMalformed) ||
                  isMaverickError(err, ErrorCode.BundleNonCanonical),
              ).toBe(true);
              refused++;
              return;
            }
            accepted++;
            expect(Buffer.from(reencoded(uplinks, version))).toEqual(Buffer.from(encodeCbor(block)));
          },
        ),
        { numRuns: 3000 },
      );
      // Both sides are exercised: some changes are other valid content, most are refused.
      expect(accepted).toBeGreaterThan(50);
      expect(refused).toBeGreaterThan(500);
    });
  }
});

describe('strict telemetry decoder: each rule by name', () => {
  const row = (
    device: number,
    fCnt: number,
    at: number,
    readings: UplinkRecord['readings'],
  ): UplinkRecord => ({
    devEui: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, device),
    plotId: null,
    fCnt,
    session: 0,
    receivedAt: 1_700_000_000_000 + at,
    timeSource: 'gps',
    readings,
  });
  const temp = (value: number) => ({ field: 'temperature', scale: -2, value });
  const batt = (value: number) => ({ field: 'battery', scale: 0, value });
  const good = () =>
    blockOf(
      [
        row(1, 1, 0, [temp(1), batt(3600)]),
        row(1, 2, 1000, [temp(2)]),
        row(1, 3, 2000, [temp(3), batt(3599)]),
        row(2, 9, 50, [temp(7)]),
      ],
      2,
    );
  const table = (m: CborMap, key: number) => m.get(key) as CborValue[];
  const blocks = (m: CborMap) => table(m, 2) as CborValue[][];
  const codeOf = (m: CborMap): number | undefined => {
    try {
      decodeTelemetry(m, PLOTS, 2);
      return undefined;
    } catch (err) {
      return isMaverickError(err) ? err.code : -1;
    }
  };
  const signed = (...values: number[]) => {
    const w = new VarintWriter();
    for (const v of values) w.signed(v);
    return w.result();
  };

  it("accepts the encoder's block", () => {
    expect(codeOf(good())).toBeUndefined();
  });

  it.each<[string, (m: CborMap) => void, number]>([
    ['devices out of order', (m) => table(m, 0).reverse(), ErrorCode.BundleNonCanonical],
    [
      'a field listed twice',
      (m) => table(m, 1).push(table(m, 1)[1] as CborValue),
      ErrorCode.BundleNonCanonical,
    ],
    ['a field no row carries', (m) => table(m, 1).push(['zinc', 0]), ErrorCode.BundleNonCanonical],
    ['fields out of order', (m) => table(m, 1).reverse(), ErrorCode.BundleNonCanonical],
    [
      'a device entry of three elements',
      (m) => (table(m, 0)[0] as CborValue[]).push(1),
      ErrorCode.BundleMalformed,
    ],
    ['blocks out of table order', (m) => blocks(m).reverse(), ErrorCode.BundleNonCanonical],
    ['a block missing', (m) => blocks(m).pop(), ErrorCode.BundleNonCanonical],
    [
      'rows out of time order',
      (m) => {
        (blocks(m)[0] as CborValue[])[3] = signed(1000, -3000); // t1 = t0 + 1000, t2 = t1 − 2000
      },
      ErrorCode.BundleNonCanonical,
    ],
    [
      'a repeated row',
      (m) => {
        const b = blocks(m)[0] as CborValue[];
        b[3] = signed(0, 1000); // t1 = t0, and FCnt 1 → 1 below
        b[4] = Uint8Array.of(1, ...signed(0, 2));
      },
      ErrorCode.BundleMalformed,
    ],
    [
      'time-source runs not maximal',
      (m) => ((blocks(m)[0] as CborValue[])[5] = Uint8Array.of(0, 1, 0, 2)),
      ErrorCode.BundleNonCanonical,
    ],
    [
      'session runs not maximal',
      (m) => ((blocks(m)[0] as CborValue[])[7] = Uint8Array.of(0, 2, 0, 1)),
      ErrorCode.BundleNonCanonical,
    ],
    [
      'columns out of field order',
      (m) => ((blocks(m)[0] as CborValue[])[6] as CborValue[]).reverse(),
      ErrorCode.BundleNonCanonical,
    ],
    [
      'a bitmap where every row carries the field',
      (m) =>
        (((blocks(m)[0] as CborValue[])[6] as CborValue[][])[1] as CborValue[]).push(
          Uint8Array.of(0b1110_0000),
        ),
      ErrorCode.BundleNonCanonical,
    ],
    [
      'a column no row carries',
      (m) => {
        const column = ((blocks(m)[0] as CborValue[])[6] as CborValue[][])[0] as CborValue[];
        column[1] = new Uint8Array(0);
        column[2] = Uint8Array.of(0);
      },
      ErrorCode.BundleNonCanonical,
    ],
    [
      'unused bitmap bits set',
      (m) => {
        const column = ((blocks(m)[0] as CborValue[])[6] as CborValue[][])[0] as CborValue[];
        column[2] = Uint8Array.of(((column[2] as Uint8Array)[0] as number) | 1);
      },
      ErrorCode.BundleNonCanonical,
    ],
    [
      "a delta beyond the writer's ±2^52",
      (m) => {
        const varint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]; // 2^53 − 1, zigzag −2^52
        (((blocks(m)[1] as CborValue[])[6] as CborValue[][])[0] as CborValue[])[1] = Uint8Array.of(...varint);
      },
      ErrorCode.BundleMalformed,
    ],
  ])('refuses %s', (_name, change, code) => {
    const m = good();
    change(m);
    expect(codeOf(m)).toBe(code);
  });
});
