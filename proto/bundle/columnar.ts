/**
 * The columnar telemetry block (BUNDLE.md §5): a device table, a field table
 * with decimal scales, and per device one block of rows with delta-of-delta
 * timestamps, delta FCnts, run-length time sources and per-field delta
 * columns, all as zigzag varints packed in byte strings. Regular uplinks make
 * most of these one byte, which is what keeps a day under 8 bytes per uplink.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type CborMap, type CborValue, compareBytes } from './cbor-encode.js';
import { type BundleFormatVersion, TIME_SOURCES, type TimeSource, type UplinkRecord } from './types.js';
import { VarintWriter } from './varint.js';

const textEncoder = new TextEncoder();
/** Largest reading magnitude a bundle carries (BUNDLE.md §5). */
export const MAX_READING_MAGNITUDE = 2 ** 51;

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `telemetry block: ${message}`);
}

/** Whether no code unit of `text` is U+D800 or above: then its UTF-16 order is its UTF-8 byte order. */
export function belowSurrogates(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0xd800) return false;
  return true;
}

/** Orders text by its UTF-8 bytes (what CBOR sorting sees), skipping the encode when it cannot differ. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  // Below U+D800 UTF-16 code-unit order equals UTF-8 byte order; only surrogates and
  // U+E000..U+FFFF need the byte comparison.
  if (belowSurrogates(a) && belowSurrogates(b)) return a < b ? -1 : 1;
  return compareBytes(textEncoder.encode(a), textEncoder.encode(b));
}

interface DeviceKey {
  devEui: Uint8Array;
  plotIndex: number | null;
}

function compareDeviceKeys(a: DeviceKey, b: DeviceKey): number {
  return compareBytes(a.devEui, b.devEui) || (a.plotIndex ?? -1) - (b.plotIndex ?? -1);
}

interface FieldKey {
  name: string;
  scale: number;
}

function compareFields(a: FieldKey, b: FieldKey): number {
  return compareText(a.name, b.name) || a.scale - b.scale;
}

export function sessionOf(u: UplinkRecord): number {
  return u.session ?? 0;
}

/** A device block's row order (BUNDLE.md §5): reception time, then session, then FCnt. */
export function compareRows(a: UplinkRecord, b: UplinkRecord): number {
  return a.receivedAt - b.receivedAt || sessionOf(a) - sessionOf(b) || a.fCnt - b.fCnt;
}

function validateUplink(u: UplinkRecord, version: BundleFormatVersion): void {
  if (!(u.devEui instanceof Uint8Array) || u.devEui.length !== 8) throw malformed('a DevEUI is 8 bytes');
  if (!Number.isSafeInteger(u.fCnt) || u.fCnt < 0 || u.fCnt > 0xffffffff)
    throw malformed(`bad FCnt ${u.fCnt}`);
  if (!Number.isSafeInteger(u.receivedAt) || u.receivedAt < 0)
    throw malformed(`bad receivedAt ${u.receivedAt}`);
  if (!TIME_SOURCES.includes(u.timeSource)) throw malformed(`unknown time source ${String(u.timeSource)}`);
  if (!Number.isSafeInteger(sessionOf(u)) || sessionOf(u) < 0) throw malformed(`bad session ${u.session}`);
  if (version === 1 && sessionOf(u) !== 0) {
    throw malformed('format 1 has no sessions: an uplink of session > 0 needs format 2');
  }
  for (const r of u.readings) {
    if (!Number.isSafeInteger(r.value) || Math.abs(r.value) > MAX_READING_MAGNITUDE) {
      throw malformed(
        `reading ${r.field}=${r.value} is not an integer within ±2^51 (use fixed-point with a scale)`,
      );
    }
    if (!Number.isInteger(r.scale) || r.scale < -18 || r.scale > 18) throw malformed(`bad scale ${r.scale}`);
  }
}

/** Stable canonical order of uplinks: device (DevEUI, plot), then time, then FCnt. */
export function sortUplinks(uplinks: UplinkRecord[], plotIndex: (id: string) => number): UplinkRecord[] {
  // Each uplink's device key is made once, not twice per comparison (this runs on every bundle verified).
  const keyed = uplinks.map((u): DeviceKey & { u: UplinkRecord } => ({
    u,
    devEui: u.devEui,
    plotIndex: u.plotId === null ? null : plotIndex(u.plotId),
  }));
  keyed.sort((a, b) => compareDeviceKeys(a, b) || compareRows(a.u, b.u));
  return keyed.map((k) => k.u);
}

/** A device's key while grouping rows: its 8 DevEUI bytes as 8 characters, and its plot. */
function deviceId(devEui: Uint8Array, plotIndex: number | null): string {
  return `${String.fromCharCode(...devEui)}/${plotIndex ?? ''}`;
}

/** Builds the block. `plotIndex` maps a plot id to its index in the payload's plot list. */
export function encodeTelemetry(
  uplinks: UplinkRecord[],
  plotIndex: (id: string) => number,
  version: BundleFormatVersion,
): CborMap {
  for (const u of uplinks) validateUplink(u, version);
  const devices = new Map<string, DeviceKey & { rows: UplinkRecord[] }>();
  const fieldsByName = new Map<string, Map<number, FieldKey>>();
  for (const u of uplinks) {
    const plot = u.plotId === null ? null : plotIndex(u.plotId);
    const id = deviceId(u.devEui, plot);
    let device = devices.get(id);
    if (!device) {
      device = { devEui: u.devEui, plotIndex: plot, rows: [] };
      devices.set(id, device);
    }
    device.rows.push(u);
    for (const r of u.readings) {
      let scales = fieldsByName.get(r.field);
      if (!scales) {
        scales = new Map();
        fieldsByName.set(r.field, scales);
      }
      if (!scales.has(r.scale)) scales.set(r.scale, { name: r.field, scale: r.scale });
    }
  }
  const sortedDevices = [...devices.values()].sort(compareDeviceKeys);
  const fields = [...fieldsByName.values()].flatMap((scales) => [...scales.values()]).sort(compareFields);
  // name → scale → column index, without building a string key per reading.
  const indexByName = new Map<string, Map<number, number>>();
  fields.forEach((f, i) => {
    const scales = indexByName.get(f.name) ?? new Map<number, number>();
    scales.set(f.scale, i);
    indexByName.set(f.name, scales);
  });
  const fieldIndex = (name: string, scale: number): number => indexByName.get(name)?.get(scale) as number;
  const blocks: CborValue[] = sortedDevices.map((device, deviceIndex) =>
    encodeDeviceBlock(deviceIndex, device.rows.sort(compareRows), fields.length, fieldIndex, version),
  );
  return new Map<number, CborValue>([
    [0, sortedDevices.map((d) => [d.devEui, d.plotIndex])],
    [1, fields.map((f) => [f.name, f.scale])],
    [2, blocks],
  ]);
}

function encodeDeviceBlock(
  deviceIndex: number,
  rows: UplinkRecord[],
  fieldCount: number,
  fieldIndex: (name: string, scale: number) => number,
  version: BundleFormatVersion,
): CborValue {
  const first = rows[0] as UplinkRecord;
  const times = new VarintWriter();
  const fcnts = new VarintWriter();
  const sources = new VarintWriter();
  let previousDelta = 0;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] as UplinkRecord;
    const prev = rows[i - 1] as UplinkRecord;
    if (compareRows(prev, row) === 0)
      throw malformed(`duplicate uplink FCnt ${row.fCnt} at ${row.receivedAt}`);
    const delta = row.receivedAt - prev.receivedAt;
    times.signed(i === 1 ? delta : delta - previousDelta);
    previousDelta = delta;
  }
  rows.forEach((row, i) => {
    if (i === 0) fcnts.unsigned(row.fCnt);
    else fcnts.signed(row.fCnt - (rows[i - 1] as UplinkRecord).fCnt);
  });
  writeRuns(sources, rows, (row) => TIME_SOURCES.indexOf(row.timeSource));
  // One column per field: the rows that carry it, delta-encoded. Row i's value of field f is
  // cell i * fieldCount + f (undefined: the row does not carry it).
  const cells: (number | undefined)[] = new Array(rows.length * fieldCount);
  rows.forEach((row, i) => {
    for (const r of row.readings) {
      const at = i * fieldCount + fieldIndex(r.field, r.scale);
      if (cells[at] !== undefined) throw malformed(`uplink FCnt ${row.fCnt} carries ${r.field} twice`);
      cells[at] = r.value;
    }
  });
  const columns: CborValue[] = [];
  for (let f = 0; f < fieldCount; f++) {
    const present = rows.map((_, i) => cells[i * fieldCount + f] !== undefined);
    if (!present.includes(true)) continue;
    const values = new VarintWriter();
    let previous = 0;
    for (let i = 0; i < rows.length; i++) {
      const v = cells[i * fieldCount + f];
      if (v === undefined) continue;
      values.signed(v - previous);
      previous = v;
    }
    const column: CborValue[] = [f, values.result()];
    if (present.includes(false)) {
      const bitmap = new Uint8Array(Math.ceil(rows.length / 8));
      present.forEach((p, i) => {
        if (p) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (0x80 >> (i & 7));
      });
      column.push(bitmap);
    }
    columns.push(column);
  }
  const block: CborValue[] = [
    deviceIndex,
    rows.length,
    first.receivedAt,
    times.result(),
    fcnts.result(),
    sources.result(),
    columns,
  ];
  if (version >= 2) {
    const sessions = new VarintWriter();
    writeRuns(sessions, rows, sessionOf);
    block.push(sessions.result());
  }
  return block;
}

/** Run-length pairs (value, run) of a per-row value: time sources, sessions. */
function writeRuns(out: VarintWriter, rows: UplinkRecord[], pick: (row: UplinkRecord) => number): void {
  for (let i = 0; i < rows.length; ) {
    const value = pick(rows[i] as UplinkRecord);
    let run = 1;
    while (i + run < rows.length && pick(rows[i + run] as UplinkRecord) === value) run++;
    out.unsigned(value);
    out.unsigned(run);
    i += run;
  }
}

export function sourceCounts(uplinks: readonly UplinkRecord[]): Record<TimeSource, number> {
  const counts: Record<TimeSource, number> = { gps: 0, ntp: 0, 'host-unsynced': 0 };
  for (const u of uplinks) counts[u.timeSource]++;
  return counts;
}

export type { TimeSource };
