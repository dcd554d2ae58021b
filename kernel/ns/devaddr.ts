/**
 * DevAddr allocation inside the NetID's address block. The NetID type (its 3
 * top bits) fixes how many leading bits of a DevAddr are the type prefix and
 * the NwkID (LoRaWAN Backend Interfaces 1.0 §13, with the 1.0.4 errata widths
 * for types 3 and 4); the rest is ours to choose at random.
 */
import { randomInt } from 'node:crypto';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

/** NwkID width in bits for NetID types 0..7. */
const NWK_ID_BITS = [6, 6, 9, 11, 12, 13, 15, 17] as const;

export interface AddressBlock {
  /** The fixed leading bits (type prefix + NwkID), already shifted into place. */
  prefix: number;
  /** How many low bits are free (the NwkAddr). */
  nwkAddrBits: number;
}

export function addressBlock(netId: string): AddressBlock {
  if (!/^[0-9a-fA-F]{6}$/.test(netId)) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `netId must be 6 hex characters, got ${JSON.stringify(netId)}`,
      {
        hint: 'use 000000 for a private network',
        context: { field: 'netId' },
      },
    );
  }
  const value = Number.parseInt(netId, 16);
  const type = value >>> 21;
  const nwkIdBits = NWK_ID_BITS[type] ?? 6;
  const nwkId = value & ((1 << nwkIdBits) - 1);
  // Type t is announced by t ones followed by a zero.
  const prefixBits = type + 1;
  const typePrefix = ((1 << prefixBits) - 1) ^ 1; // t ones then a 0
  const nwkAddrBits = 32 - prefixBits - nwkIdBits;
  const prefix = ((typePrefix << (32 - prefixBits)) | (nwkId << nwkAddrBits)) >>> 0;
  return { prefix, nwkAddrBits };
}

/** A random DevAddr in the NetID's block that `inUse` does not report as taken. */
export async function allocateDevAddr(
  netId: string,
  inUse: (devAddr: string) => Promise<boolean>,
  attempts = 64,
): Promise<string> {
  const { prefix, nwkAddrBits } = addressBlock(netId);
  for (let i = 0; i < attempts; i++) {
    const nwkAddr = randomInt(0, 2 ** nwkAddrBits);
    const devAddr = ((prefix | nwkAddr) >>> 0).toString(16).padStart(8, '0');
    if (!(await inUse(devAddr))) return devAddr;
  }
  throw new MaverickError(
    ErrorCode.LorawanDeviceInvalid,
    `no free DevAddr found in the block of NetID ${netId}`,
    {
      hint: 'remove unused devices or use a NetID with a larger address block',
    },
  );
}
