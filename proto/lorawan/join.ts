/**
 * Over-the-air activation for LoRaWAN 1.0.x (LoRaWAN 1.0.3 §6.2): join-request
 * MIC, join-accept encryption (the network *decrypts* so the device only needs
 * AES encrypt, §6.2.5), and NwkSKey / AppSKey derivation.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import {
  assertInt,
  assertKey,
  hexToLittleEndian,
  littleEndianToHex,
  readUintLE,
  writeUintLE,
} from './bytes.js';
import { aesCmac, aesDecryptBlocks, aesEncryptBlocks, micEquals } from './crypto.js';
import type { JoinAcceptFields, JoinRequestFrame, SessionKeys } from './types.js';

const MHDR_JOIN_REQUEST = 0x00;
const MHDR_JOIN_ACCEPT = 0x20;

/** True when the join-request MIC (cmac(AppKey, MHDR | JoinEUI | DevEUI | DevNonce), §6.2.4) is right. */
export function verifyJoinRequest(frame: JoinRequestFrame, appKey: Uint8Array): boolean {
  assertKey(appKey, 'AppKey');
  if (frame.phy.length !== 23) return false;
  return micEquals(aesCmac(appKey, frame.phy.subarray(0, 19)).subarray(0, 4), frame.mic);
}

export function encodeJoinRequest(
  input: { joinEui: string; devEui: string; devNonce: number },
  appKey: Uint8Array,
): Uint8Array {
  assertKey(appKey, 'AppKey');
  assertInt(input.devNonce, 0, 0xffff, 'devNonce');
  const phy = new Uint8Array(23);
  phy[0] = MHDR_JOIN_REQUEST;
  phy.set(hexToLittleEndian(input.joinEui, 8, 'joinEui'), 1);
  phy.set(hexToLittleEndian(input.devEui, 8, 'devEui'), 9);
  writeUintLE(phy, 17, input.devNonce, 2);
  phy.set(aesCmac(appKey, phy.subarray(0, 19)).subarray(0, 4), 19);
  return phy;
}

/** Builds MHDR | AppNonce | NetID | DevAddr | DLSettings | RxDelay | [CFList] | MIC before encryption. */
export function joinAcceptPlaintext(fields: JoinAcceptFields, appKey: Uint8Array): Uint8Array {
  assertKey(appKey, 'AppKey');
  assertInt(fields.appNonce, 0, 0xffffff, 'appNonce');
  assertInt(fields.rx1DrOffset, 0, 7, 'rx1DrOffset');
  assertInt(fields.rx2DataRate, 0, 15, 'rx2DataRate');
  assertInt(fields.rxDelay, 0, 15, 'rxDelay');
  if (fields.cfList !== undefined && fields.cfList.length !== 16) {
    throw new MaverickError(ErrorCode.LorawanCodec, `CFList must be 16 bytes, got ${fields.cfList.length}`);
  }
  const length = fields.cfList ? 33 : 17;
  const plain = new Uint8Array(length);
  plain[0] = MHDR_JOIN_ACCEPT;
  writeUintLE(plain, 1, fields.appNonce, 3);
  plain.set(hexToLittleEndian(fields.netId, 3, 'netId'), 4);
  plain.set(hexToLittleEndian(fields.devAddr, 4, 'devAddr'), 7);
  plain[11] = (fields.rx1DrOffset << 4) | fields.rx2DataRate;
  plain[12] = fields.rxDelay;
  if (fields.cfList) plain.set(fields.cfList, 13);
  plain.set(aesCmac(appKey, plain.subarray(0, length - 4)).subarray(0, 4), length - 4);
  return plain;
}

/** The encrypted join-accept, ready to send: MHDR | aes128_decrypt(AppKey, fields | MIC) (§6.2.5). */
export function encodeJoinAccept(fields: JoinAcceptFields, appKey: Uint8Array): Uint8Array {
  const plain = joinAcceptPlaintext(fields, appKey);
  const phy = new Uint8Array(plain.length);
  phy[0] = plain[0];
  phy.set(aesDecryptBlocks(appKey, plain.subarray(1)), 1);
  return phy;
}

/**
 * The device side: decrypts a join-accept with the AppKey and checks its MIC.
 * Throws MaverickError(LorawanMalformed) for a wrong length or MHDR and
 * MaverickError(LorawanBadMic) when the MIC does not verify.
 */
export function decodeJoinAccept(phy: Uint8Array, appKey: Uint8Array): JoinAcceptFields {
  assertKey(appKey, 'AppKey');
  if (
    !(phy instanceof Uint8Array) ||
    (phy.length !== 17 && phy.length !== 33) ||
    phy[0] !== MHDR_JOIN_ACCEPT
  ) {
    throw new MaverickError(
      ErrorCode.LorawanMalformed,
      'not a 1.0.x join-accept (MHDR 0x20, 17 or 33 bytes)',
      {
        context: { length: phy?.length },
      },
    );
  }
  const plain = new Uint8Array(phy.length);
  plain[0] = phy[0];
  plain.set(aesEncryptBlocks(appKey, phy.subarray(1)), 1);
  const micAt = plain.length - 4;
  if (!micEquals(aesCmac(appKey, plain.subarray(0, micAt)).subarray(0, 4), plain.subarray(micAt))) {
    throw new MaverickError(ErrorCode.LorawanBadMic, 'join-accept MIC does not verify', {
      hint: 'the AppKey is wrong or the join-accept was meant for another device',
    });
  }
  const fields: JoinAcceptFields = {
    appNonce: readUintLE(plain, 1, 3),
    netId: littleEndianToHex(plain, 4, 3),
    devAddr: littleEndianToHex(plain, 7, 4),
    rx1DrOffset: (plain[11] >>> 4) & 0x07,
    rx2DataRate: plain[11] & 0x0f,
    rxDelay: plain[12] & 0x0f,
  };
  if (plain.length === 33) fields.cfList = plain.slice(13, 29);
  return fields;
}

/**
 * NwkSKey = aes128_encrypt(AppKey, 0x01 | AppNonce | NetID | DevNonce | pad16),
 * AppSKey the same with 0x02 (LoRaWAN 1.0.3 §6.2.5).
 */
export function deriveSessionKeys(
  appKey: Uint8Array,
  appNonce: number,
  netId: string,
  devNonce: number,
): SessionKeys {
  assertKey(appKey, 'AppKey');
  assertInt(appNonce, 0, 0xffffff, 'appNonce');
  assertInt(devNonce, 0, 0xffff, 'devNonce');
  const blocks = new Uint8Array(32);
  for (const [offset, type] of [
    [0, 0x01],
    [16, 0x02],
  ] as const) {
    blocks[offset] = type;
    writeUintLE(blocks, offset + 1, appNonce, 3);
    blocks.set(hexToLittleEndian(netId, 3, 'netId'), offset + 4);
    writeUintLE(blocks, offset + 7, devNonce, 2);
  }
  const keys = aesEncryptBlocks(appKey, blocks);
  return { nwkSKey: keys.slice(0, 16), appSKey: keys.slice(16, 32) };
}
