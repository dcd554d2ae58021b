/**
 * Mobile-terminated (regional → gateway) status messages of the message link.
 * One MT message (Iridium ≤ 270 bytes) carries a sequence of records:
 *   0x11 DONE    [id:4][status:1]               the item is settled
 *                                               (0 accepted, 1 duplicate, 2 rejected)
 *   0x12 BITMAP  [id:4][count:u16][bitmap]      which fragments arrived; bit i is
 *                                               byte i>>3, bit (i & 7), LSB first;
 *                                               ceil(count / 8) bytes
 * The gateway retires an item on DONE accepted/duplicate and resends only the
 * fragments a BITMAP shows missing (selective retransmission).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { ITEM_ID_BYTES, SBD_MT_MTU } from './fragment.js';

export type ItemStatus = 'accepted' | 'duplicate' | 'rejected';
const statusCodes: ItemStatus[] = ['accepted', 'duplicate', 'rejected'];

export type StatusRecord =
  | { type: 'done'; itemId: Uint8Array; status: ItemStatus }
  | { type: 'bitmap'; itemId: Uint8Array; count: number; bitmap: Uint8Array };

const DONE = 0x11;
const BITMAP = 0x12;

function statusError(message: string): MaverickError {
  return new MaverickError(ErrorCode.LinkFragment, message);
}

export function bitmapBytes(count: number): number {
  return Math.ceil(count / 8);
}

export function bitIsSet(bitmap: Uint8Array, index: number): boolean {
  return ((bitmap[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
}

export function setBit(bitmap: Uint8Array, index: number): void {
  bitmap[index >> 3] = (bitmap[index >> 3] ?? 0) | (1 << (index & 7));
}

export function countSet(bitmap: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (bitIsSet(bitmap, i)) n++;
  return n;
}

export function recordBytes(record: StatusRecord): number {
  return record.type === 'done' ? 1 + ITEM_ID_BYTES + 1 : 1 + ITEM_ID_BYTES + 2 + bitmapBytes(record.count);
}

export function encodeStatusRecords(records: readonly StatusRecord[]): Uint8Array {
  const total = records.reduce((n, r) => n + recordBytes(r), 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const r of records) {
    if (r.itemId.length !== ITEM_ID_BYTES)
      throw statusError(`an item id is ${ITEM_ID_BYTES} bytes, got ${r.itemId.length}`);
    out[at] = r.type === 'done' ? DONE : BITMAP;
    out.set(r.itemId, at + 1);
    at += 1 + ITEM_ID_BYTES;
    if (r.type === 'done') {
      out[at++] = statusCodes.indexOf(r.status);
    } else {
      if (!(r.count >= 1 && r.count <= 0xffff)) throw statusError(`bitmap count ${r.count} is out of range`);
      out[at++] = r.count >> 8;
      out[at++] = r.count & 0xff;
      const n = bitmapBytes(r.count);
      out.set(r.bitmap.subarray(0, n), at);
      at += n;
    }
  }
  return out;
}

/**
 * Packs records into as few MT messages of at most `mtu` bytes as possible.
 * A bitmap record too large for one message is an error: the caller caps
 * fragment counts (8 × 260 fragments fit 270 bytes).
 */
export function packStatusMessages(records: readonly StatusRecord[], mtu = SBD_MT_MTU): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let current: StatusRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = recordBytes(r);
    if (n > mtu) throw statusError(`a status record of ${n} bytes does not fit a ${mtu}-byte message`);
    if (size + n > mtu) {
      messages.push(encodeStatusRecords(current));
      current = [];
      size = 0;
    }
    current.push(r);
    size += n;
  }
  if (current.length > 0) messages.push(encodeStatusRecords(current));
  return messages;
}

/** Parses one MT message. Untrusted bytes: throws only MaverickError (LinkFragment). */
export function decodeStatusRecords(bytes: Uint8Array): StatusRecord[] {
  const records: StatusRecord[] = [];
  let at = 0;
  if (bytes.length === 0) throw statusError('an empty status message');
  while (at < bytes.length) {
    const type = bytes[at]!;
    if (type !== DONE && type !== BITMAP)
      throw statusError(`unknown status record type 0x${type.toString(16)} at byte ${at}`);
    if (at + 1 + ITEM_ID_BYTES > bytes.length) throw statusError('a status record is cut short');
    const itemId = bytes.slice(at + 1, at + 1 + ITEM_ID_BYTES);
    at += 1 + ITEM_ID_BYTES;
    if (type === DONE) {
      const code = bytes[at];
      const status = code === undefined ? undefined : statusCodes[code];
      if (!status) throw statusError(`a DONE record has status ${code ?? 'missing'}; expected 0..2`);
      records.push({ type: 'done', itemId, status });
      at += 1;
    } else {
      if (at + 2 > bytes.length) throw statusError('a BITMAP record is cut short');
      const count = (bytes[at]! << 8) | bytes[at + 1]!;
      if (count < 1) throw statusError('a BITMAP record covers zero fragments');
      at += 2;
      const n = bitmapBytes(count);
      if (at + n > bytes.length)
        throw statusError(`a BITMAP record of ${count} fragments needs ${n} bitmap bytes`);
      records.push({ type: 'bitmap', itemId, count, bitmap: bytes.slice(at, at + n) });
      at += n;
    }
  }
  return records;
}
