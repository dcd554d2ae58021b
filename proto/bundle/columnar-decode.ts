/**
 * The columnar telemetry block read back (BUNDLE.md §5), strictly. Every
 * rule the encoder (columnar.ts, encodeTelemetry) follows is checked rule by
 * rule while the block is read, so a block decodes only when it is the one
 * form encodeTelemetry gives its records, and the records come out in their
 * canonical order (device, then row order): the verifier needs neither to
 * sort them nor to build the block again to compare. The rules:
 *   - device table and field table strictly ascending (no repeats), every
 *     field used by some column;
 *   - one block per device, in table order; rows strictly ascending by
 *     reception time, session, FCnt (an exact repeat is a duplicate uplink);
 *   - runs maximal; columns by ascending field index, each carried by at
 *     least one row, a presence bitmap only when some row lacks the field,
 *     its unused bits zero;
 *   - varints in shortest form, every byte string consumed, signed values in
 *     the writer's ±2^52 range (varint.ts).
 * The CBOR itself was already checked canonical by cbor-decode.ts. A property
 * test holds this against the encoder: whatever this accepts re-encodes to the
 * same bytes.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type CborValue, compareBytes } from './cbor-encode.js';
import { compareRows, compareText, MAX_READING_MAGNITUDE } from './columnar.js';
import { type BundleFormatVersion, TIME_SOURCES, type UplinkRecord } from './types.js';
import { VarintReader } from './varint.js';

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `telemetry block: ${message}`);
}

function nonCanonical(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleNonCanonical, `telemetry block: ${message}`);
}

function asArray(v: CborValue | undefined, what: string): CborValue[] {
  if (!Array.isArray(v)) throw malformed(`${what} must be an array`);
  return v;
}

function asPair(v: CborValue | undefined, what: string): CborValue[] {
  const pair = asArray(v, what);
  if (pair.length !== 2) throw malformed(`${what} must have 2 elements`);
  return pair;
}

function asUint(v: CborValue | undefined, what: string): number {
  if (typeof v !== 'number' || v < 0) throw malformed(`${what} must be an unsigned integer`);
  return v;
}

function asBytes(v: CborValue | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw malformed(`${what} must be a byte string`);
  return v;
}

interface Device {
  devEui: Uint8Array;
  plotIndex: number | null;
}

interface Field {
  name: string;
  scale: number;
}

function readDevices(table: CborValue | undefined, plotCount: number): Device[] {
  const devices = asArray(table, 'device table').map((entry, i): Device => {
    const [devEui, plot] = asPair(entry, `device ${i}`);
    if (!(devEui instanceof Uint8Array) || devEui.length !== 8)
      throw malformed(`device ${i}: DevEUI must be 8 bytes`);
    if (plot !== null && (typeof plot !== 'number' || plot < 0 || plot >= plotCount)) {
      throw malformed(`device ${i}: plot index out of range`);
    }
    return { devEui, plotIndex: plot as number | null };
  });
  for (let i = 1; i < devices.length; i++) {
    const a = devices[i - 1] as Device;
    const b = devices[i] as Device;
    // Unassigned (null) sorts before plot 0 (BUNDLE.md §3).
    if ((compareBytes(a.devEui, b.devEui) || (a.plotIndex ?? -1) - (b.plotIndex ?? -1)) >= 0)
      throw nonCanonical(`device ${i} is not after device ${i - 1} (DevEUI, then plot; each pair once)`);
  }
  return devices;
}

function readFields(table: CborValue | undefined): Field[] {
  const fields = asArray(table, 'field table').map((entry, i): Field => {
    const [name, scale] = asPair(entry, `field ${i}`);
    if (typeof name !== 'string' || typeof scale !== 'number' || scale < -18 || scale > 18) {
      throw malformed(`field ${i} must be [name, scale -18..18]`);
    }
    return { name, scale };
  });
  for (let i = 1; i < fields.length; i++) {
    const a = fields[i - 1] as Field;
    const b = fields[i] as Field;
    if ((compareText(a.name, b.name) || a.scale - b.scale) >= 0)
      throw nonCanonical(`field ${i} is not after field ${i - 1} (name, then scale; each pair once)`);
  }
  return fields;
}

/** Decodes the records of a block; throws BundleMalformed / BundleNonCanonical naming the rule. */
export function decodeTelemetry(
  block: CborValue,
  plotIds: readonly string[],
  version: BundleFormatVersion,
): UplinkRecord[] {
  if (!(block instanceof Map) || block.size !== 3) throw malformed('must be a map of keys 0, 1, 2');
  const devices = readDevices(block.get(0), plotIds.length);
  const fields = readFields(block.get(1));
  const used = new Uint8Array(fields.length);
  const blocks = asArray(block.get(2), 'blocks');
  if (blocks.length !== devices.length)
    throw nonCanonical(`${devices.length} devices need ${devices.length} blocks, not ${blocks.length}`);
  const uplinks: UplinkRecord[] = [];
  for (let b = 0; b < blocks.length; b++) {
    const parts = asArray(blocks[b], `block ${b}`);
    const elements = version >= 2 ? 8 : 7;
    if (parts.length !== elements) throw malformed(`block ${b} must have ${elements} elements`);
    const deviceIndex = asUint(parts[0], 'device index');
    const device = devices[deviceIndex];
    if (!device) throw malformed(`block ${b}: device index out of range`);
    if (deviceIndex !== b)
      throw nonCanonical(`block ${b} is device ${deviceIndex}'s: blocks follow the table`);
    const plotId = device.plotIndex === null ? null : (plotIds[device.plotIndex] as string);
    const rows = readRows(parts, b, device.devEui, plotId, version);
    readColumns(asArray(parts[6], 'columns'), rows, fields, used, b);
    for (const row of rows) uplinks.push(row);
  }
  const unused = used.indexOf(0);
  if (unused >= 0) throw nonCanonical(`field ${unused} is carried by no row`);
  return uplinks;
}

/** A block's rows without their readings: times, FCnts, time sources and sessions, in canonical order. */
function readRows(
  parts: CborValue[],
  b: number,
  devEui: Uint8Array,
  plotId: string | null,
  version: BundleFormatVersion,
): UplinkRecord[] {
  const rowCount = asUint(parts[1], 'row count');
  const times = new VarintReader(asBytes(parts[3], 'timestamps'), `block ${b} timestamps`);
  const fcntBytes = asBytes(parts[4], 'fcnts');
  const fcnts = new VarintReader(fcntBytes, `block ${b} fcnts`);
  const sources = new VarintReader(asBytes(parts[5], 'time sources'), `block ${b} time sources`);
  // A row takes at least one FCnt byte: a count beyond them cannot be real (and is not allocated).
  if (rowCount === 0 || rowCount > fcntBytes.length) throw malformed(`block ${b}: bad row count`);
  const rows: UplinkRecord[] = new Array(rowCount);
  let time = asUint(parts[2], 't0');
  let delta = 0;
  let fCnt = 0;
  for (let i = 0; i < rowCount; i++) {
    if (i === 1) delta = times.signed();
    else if (i > 1) delta += times.signed();
    if (i > 0) time += delta;
    fCnt = i === 0 ? fcnts.unsigned() : fCnt + fcnts.signed();
    if (!Number.isSafeInteger(time) || time < 0 || fCnt < 0 || fCnt > 0xffffffff) {
      throw malformed(`block ${b} row ${i}: time or FCnt out of range`);
    }
    rows[i] = { devEui, plotId, fCnt, receivedAt: time, timeSource: 'gps', readings: [] };
  }
  times.finish();
  fcnts.finish();
  readRuns(sources, rowCount, `block ${b} time-source`, (row, value) => {
    const source = TIME_SOURCES[value];
    if (source) (rows[row] as UplinkRecord).timeSource = source;
    return source !== undefined;
  });
  if (version >= 2) {
    const sessions = new VarintReader(asBytes(parts[7], 'sessions'), `block ${b} sessions`);
    readRuns(sessions, rowCount, `block ${b} session`, (row, value) => {
      (rows[row] as UplinkRecord).session = value;
      return Number.isSafeInteger(value);
    });
  }
  for (let i = 1; i < rowCount; i++) {
    const order = compareRows(rows[i - 1] as UplinkRecord, rows[i] as UplinkRecord);
    const row = rows[i] as UplinkRecord;
    if (order === 0) throw malformed(`duplicate uplink FCnt ${row.fCnt} at ${row.receivedAt}`);
    if (order > 0) throw nonCanonical(`block ${b} row ${i} is before row ${i - 1} (time, session, FCnt)`);
  }
  return rows;
}

/** Reads maximal run-length pairs back, handing each row its value; every run must fit the rows. */
function readRuns(
  reader: VarintReader,
  rowCount: number,
  what: string,
  apply: (row: number, value: number) => boolean,
): void {
  let previous = -1;
  for (let i = 0; i < rowCount; ) {
    const value = reader.unsigned();
    const run = reader.unsigned();
    if (run === 0 || i + run > rowCount) throw malformed(`bad ${what} run`);
    if (value === previous)
      throw nonCanonical(`${what} runs are not maximal (two runs of ${value} in a row)`);
    for (let j = 0; j < run; j++) if (!apply(i + j, value)) throw malformed(`bad ${what} ${value}`);
    previous = value;
    i += run;
  }
  reader.finish();
}

function readColumns(
  columns: CborValue[],
  rows: UplinkRecord[],
  fields: Field[],
  used: Uint8Array,
  b: number,
): void {
  let previousField = -1;
  for (const rawColumn of columns) {
    const column = asArray(rawColumn, `block ${b} column`);
    const f = asUint(column[0], 'field index');
    const field = fields[f];
    if (!field || column.length < 2 || column.length > 3) throw malformed(`block ${b}: bad column`);
    if (f <= previousField) throw nonCanonical(`block ${b}: columns are not by ascending field index`);
    previousField = f;
    used[f] = 1;
    const bitmap = column.length === 3 ? presenceBitmap(column[2], rows.length, b) : undefined;
    const values = new VarintReader(asBytes(column[1], 'values'), `block ${b} field ${field.name}`);
    let value = 0;
    for (let i = 0; i < rows.length; i++) {
      if (bitmap && ((bitmap[i >> 3] as number) & (0x80 >> (i & 7))) === 0) continue;
      value += values.signed();
      if (Math.abs(value) > MAX_READING_MAGNITUDE) throw malformed(`block ${b}: value beyond ±2^51`);
      (rows[i] as UplinkRecord).readings.push({ field: field.name, scale: field.scale, value });
    }
    values.finish();
  }
}

/**
 * A column's presence bitmap, checked: ceil(rows / 8) bytes, some row carries the field and some
 * does not (all present is written without a bitmap, none present without the column), and the
 * unused bits of the last byte are zero.
 */
function presenceBitmap(raw: CborValue | undefined, rowCount: number, b: number): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.length !== Math.ceil(rowCount / 8)) {
    throw malformed(`block ${b}: presence bitmap has the wrong length`);
  }
  let present = 0;
  for (let i = 0; i < rowCount; i++) if (((raw[i >> 3] as number) & (0x80 >> (i & 7))) !== 0) present++;
  if (present === 0) throw nonCanonical(`block ${b}: a column no row carries`);
  if (present === rowCount)
    throw nonCanonical(`block ${b}: a presence bitmap where every row carries the field`);
  const spare = raw.length * 8 - rowCount;
  if (spare > 0 && ((raw[raw.length - 1] as number) & ((1 << spare) - 1)) !== 0) {
    throw nonCanonical(`block ${b}: unused presence bits are not zero`);
  }
  return raw;
}
