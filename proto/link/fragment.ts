/**
 * Mobile-originated (gateway → regional) frames of the message link: one
 * frame per satellite message (Iridium SBD MO ≤ 340 bytes on a 9602/9603).
 *
 * Layout (9-byte header, all integers big-endian):
 *   byte 0      bits 7..4 version (1), bit 3 "status wanted", bits 2..0 item kind
 *   bytes 1..4  item id: the first 4 bytes of the SHA-256 of the whole item
 *               (self-checking: the reassembled bytes must hash to it)
 *   bytes 5..6  fragment index
 *   bytes 7..8  fragment count (≥ 1, index < count)
 *   bytes 9..   fragment payload (≥ 1 byte)
 * A 4-byte id keeps the header small (goodput); the full digest check after
 * reassembly catches the rare collision between two items in flight.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';

export const FRAME_VERSION = 1;
export const FRAGMENT_HEADER_BYTES = 9;
export const ITEM_ID_BYTES = 4;
/** Iridium 9602/9603 mobile-originated limit (ISU AT Command Reference, +SBDWB). */
export const SBD_MO_MTU = 340;
/** Iridium 9602/9603 mobile-terminated limit. */
export const SBD_MT_MTU = 270;

/** What an outbox item is; the number is its wire code. */
/** A `statement` is a gateway's signed period statement (proto/proof/PROOF.md §5, about 284 bytes). */
export const ItemKindCode = { bundle: 1, commitment: 2, alarm: 3, diagnostic: 4, statement: 5 } as const;
export type ItemKind = keyof typeof ItemKindCode;
const kindByCode = new Map<number, ItemKind>(
  Object.entries(ItemKindCode).map(([k, v]) => [v, k as ItemKind]),
);

export interface Fragment {
  kind: ItemKind;
  /** 4 bytes. */
  itemId: Uint8Array;
  index: number;
  count: number;
  /** Ask the receiver to answer with a status (bitmap) message. */
  wantStatus: boolean;
  payload: Uint8Array;
}

export function itemIdOf(item: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(item).digest().subarray(0, ITEM_ID_BYTES));
}

export function itemIdHex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

function fragmentError(message: string, context?: Record<string, unknown>): MaverickError {
  return new MaverickError(ErrorCode.LinkFragment, message, { context });
}

/** Payload bytes per fragment for a link MTU. */
export function fragmentPayloadBytes(mtu: number): number {
  const room = mtu - FRAGMENT_HEADER_BYTES;
  if (!Number.isInteger(mtu) || room < 1) {
    throw new MaverickError(
      ErrorCode.LinkFragment,
      `an MTU of ${mtu} bytes leaves no room after the ${FRAGMENT_HEADER_BYTES}-byte fragment header`,
    );
  }
  return room;
}

export function fragmentCount(itemBytes: number, mtu: number): number {
  const count = Math.max(1, Math.ceil(itemBytes / fragmentPayloadBytes(mtu)));
  if (count > 0xffff) {
    throw new MaverickError(
      ErrorCode.LinkBudget,
      `an item of ${itemBytes} bytes needs ${count} fragments; at most 65535 fit the header`,
      {
        hint: 'send it over the IP link instead',
      },
    );
  }
  return count;
}

export function encodeFragment(f: Fragment): Uint8Array {
  if (f.itemId.length !== ITEM_ID_BYTES)
    throw fragmentError(`an item id is ${ITEM_ID_BYTES} bytes, got ${f.itemId.length}`);
  if (!(f.count >= 1 && f.count <= 0xffff && f.index >= 0 && f.index < f.count)) {
    throw fragmentError(`fragment ${f.index} of ${f.count} is out of range`);
  }
  if (f.payload.length < 1) throw fragmentError('a fragment carries at least one byte');
  const out = new Uint8Array(FRAGMENT_HEADER_BYTES + f.payload.length);
  out[0] = (FRAME_VERSION << 4) | (f.wantStatus ? 0x08 : 0) | ItemKindCode[f.kind];
  out.set(f.itemId, 1);
  out[5] = f.index >> 8;
  out[6] = f.index & 0xff;
  out[7] = f.count >> 8;
  out[8] = f.count & 0xff;
  out.set(f.payload, FRAGMENT_HEADER_BYTES);
  return out;
}

/** Parses one MO frame. Untrusted bytes: throws only MaverickError (LinkFragment). */
export function decodeFragment(bytes: Uint8Array): Fragment {
  if (bytes.length < FRAGMENT_HEADER_BYTES + 1) {
    throw fragmentError(`a fragment is at least ${FRAGMENT_HEADER_BYTES + 1} bytes, got ${bytes.length}`);
  }
  const version = bytes[0]! >> 4;
  if (version !== FRAME_VERSION)
    throw fragmentError(`fragment version ${version} is not supported (expected ${FRAME_VERSION})`);
  const kind = kindByCode.get(bytes[0]! & 0x07);
  if (!kind) throw fragmentError(`fragment item kind ${bytes[0]! & 0x07} is unknown`);
  const index = (bytes[5]! << 8) | bytes[6]!;
  const count = (bytes[7]! << 8) | bytes[8]!;
  if (count < 1 || index >= count)
    throw fragmentError(`fragment ${index} of ${count} is out of range`, { index, count });
  return {
    kind,
    itemId: bytes.slice(1, 5),
    index,
    count,
    wantStatus: (bytes[0]! & 0x08) !== 0,
    payload: bytes.slice(FRAGMENT_HEADER_BYTES),
  };
}

/** Splits an item into MO frames of at most `mtu` bytes (without the status flag set). */
export function splitItem(kind: ItemKind, item: Uint8Array, mtu: number): Fragment[] {
  const size = fragmentPayloadBytes(mtu);
  const count = fragmentCount(item.length, mtu);
  const itemId = itemIdOf(item);
  const out: Fragment[] = [];
  for (let index = 0; index < count; index++) {
    out.push({
      kind,
      itemId,
      index,
      count,
      wantStatus: false,
      payload: item.subarray(index * size, (index + 1) * size),
    });
  }
  return out;
}
