/**
 * PHYPayload decoding and data-frame encoding (LoRaWAN 1.0.3 §4). The decoder
 * is the first thing untrusted radio bytes meet: it checks every length before
 * reading and throws only MaverickError(LorawanMalformed).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { assertInt, assertKey, hexToLittleEndian, littleEndianToHex, readUintLE } from './bytes.js';
import { b0Mic, frmCrypt, micEquals } from './crypto.js';
import {
  type DataFrame,
  type DataFrameInput,
  type DecodedPhy,
  type FCtrl,
  MTYPES,
  type SessionKeys,
} from './types.js';

const MIC_LENGTH = 4;
/** MHDR(1) + DevAddr(4) + FCtrl(1) + FCnt(2) + MIC(4): the smallest data frame (§4.3). */
const MIN_DATA_LENGTH = 12;
const JOIN_REQUEST_LENGTH = 23;
/** Join-accept: MHDR + 12 bytes + MIC, or with a 16-byte CFList (§6.2.5). */
const JOIN_ACCEPT_LENGTHS = [17, 33];
/** LoRaWAN R1 is the only major version (§4.2.2). */
const MAJOR_LORAWAN_R1 = 0;

function malformed(message: string, context?: Record<string, unknown>): MaverickError {
  return new MaverickError(ErrorCode.LorawanMalformed, message, {
    hint: 'the frame is dropped; check the sender or the radio',
    context,
  });
}

/** Decodes a PHYPayload. Throws MaverickError(LorawanMalformed) for anything that is not a valid 1.0.x frame. */
export function decodePhy(input: Uint8Array): DecodedPhy {
  if (!(input instanceof Uint8Array)) throw malformed('PHYPayload must be bytes');
  if (input.length < 1) throw malformed('empty PHYPayload');
  // A private copy: the returned views stay valid if the caller reuses its buffer.
  const phy = new Uint8Array(input);
  const mhdr = phy[0];
  const mType = MTYPES[mhdr >>> 5];
  const major = mhdr & 0x03;
  if (major !== MAJOR_LORAWAN_R1) throw malformed(`unsupported LoRaWAN major version ${major}`, { mhdr });
  switch (mType) {
    case 'JoinRequest':
      if (phy.length !== JOIN_REQUEST_LENGTH) {
        throw malformed(`join-request must be ${JOIN_REQUEST_LENGTH} bytes, got ${phy.length}`);
      }
      return {
        kind: 'join-request',
        joinEui: littleEndianToHex(phy, 1, 8),
        devEui: littleEndianToHex(phy, 9, 8),
        devNonce: readUintLE(phy, 17, 2),
        mic: phy.subarray(19, 23),
        phy,
      };
    case 'JoinAccept':
      if (!JOIN_ACCEPT_LENGTHS.includes(phy.length)) {
        throw malformed(`join-accept must be 17 or 33 bytes, got ${phy.length}`);
      }
      return { kind: 'join-accept', phy };
    case 'UnconfirmedDataUp':
    case 'UnconfirmedDataDown':
    case 'ConfirmedDataUp':
    case 'ConfirmedDataDown':
      return decodeData(phy, mType);
    default:
      throw malformed(`${mType} frames are not part of LoRaWAN 1.0.x Class A`, { mType });
  }
}

function decodeData(phy: Uint8Array, mType: DataFrame['mType']): DataFrame {
  if (phy.length < MIN_DATA_LENGTH) {
    throw malformed(`data frame of ${phy.length} bytes is shorter than the minimum ${MIN_DATA_LENGTH}`);
  }
  const uplink = mType === 'UnconfirmedDataUp' || mType === 'ConfirmedDataUp';
  const fCtrlByte = phy[5];
  const fOptsLen = fCtrlByte & 0x0f;
  const fhdrEnd = 8 + fOptsLen;
  const macPayloadEnd = phy.length - MIC_LENGTH;
  if (fhdrEnd > macPayloadEnd) throw malformed(`FOptsLen ${fOptsLen} runs past the end of the frame`);
  const fCtrl: FCtrl = {
    adr: (fCtrlByte & 0x80) !== 0,
    adrAckReq: uplink && (fCtrlByte & 0x40) !== 0,
    ack: (fCtrlByte & 0x20) !== 0,
    fPending: !uplink && (fCtrlByte & 0x10) !== 0,
    classB: uplink && (fCtrlByte & 0x10) !== 0,
  };
  const hasPort = macPayloadEnd > fhdrEnd;
  const fPort = hasPort ? phy[fhdrEnd] : undefined;
  // §4.3.1.6: MAC commands may not be in FOpts and FRMPayload (port 0) at once.
  if (fPort === 0 && fOptsLen > 0) throw malformed('FPort 0 with non-empty FOpts is forbidden (§4.3.1.6)');
  const frame: DataFrame = {
    kind: 'data',
    mType,
    uplink,
    confirmed: mType === 'ConfirmedDataUp' || mType === 'ConfirmedDataDown',
    devAddr: littleEndianToHex(phy, 1, 4),
    fCtrl,
    fCnt16: readUintLE(phy, 6, 2),
    fOpts: phy.subarray(8, fhdrEnd),
    frmPayload: hasPort ? phy.subarray(fhdrEnd + 1, macPayloadEnd) : new Uint8Array(0),
    mic: phy.subarray(macPayloadEnd),
    phy,
  };
  if (fPort !== undefined) frame.fPort = fPort;
  return frame;
}

/** The DevAddr bytes as on air, read straight from the frame. */
function devAddrBytes(frame: DataFrame): Uint8Array {
  return frame.phy.subarray(1, 5);
}

/**
 * Checks the frame's MIC with NwkSKey and the full 32-bit counter the caller
 * reconstructed (see reconstructFCnt): lora-packet only puts 16 bits in B0.
 */
export function verifyDataMic(frame: DataFrame, nwkSKey: Uint8Array, fCnt32: number): boolean {
  assertKey(nwkSKey, 'NwkSKey');
  if (((fCnt32 >>> 0) & 0xffff) !== frame.fCnt16) return false;
  const msg = frame.phy.subarray(0, frame.phy.length - MIC_LENGTH);
  const mic = b0Mic(nwkSKey, frame.uplink ? 0 : 1, devAddrBytes(frame), fCnt32, msg);
  return micEquals(mic, frame.mic);
}

/** Decrypts FRMPayload with AppSKey, or NwkSKey when fPort is 0 (LoRaWAN 1.0.3 §4.3.3). */
export function decryptFrmPayload(frame: DataFrame, key: Uint8Array, fCnt32: number): Uint8Array {
  assertKey(key, frame.fPort === 0 ? 'NwkSKey' : 'AppSKey');
  return frmCrypt(key, frame.uplink ? 0 : 1, devAddrBytes(frame), fCnt32, frame.frmPayload);
}

/**
 * Encodes a data frame with a correct MIC in every case (also without FPort,
 * where lora-packet leaves EEEEEEEE) and the full 32-bit counter in B0 and Ai.
 */
export function encodeDataFrame(input: DataFrameInput, keys: SessionKeys): Uint8Array {
  const uplink = input.mType === 'UnconfirmedDataUp' || input.mType === 'ConfirmedDataUp';
  const mTypeIndex = MTYPES.indexOf(input.mType);
  if (mTypeIndex < 2 || mTypeIndex > 5) {
    throw new MaverickError(ErrorCode.LorawanCodec, `mType ${String(input.mType)} is not a data frame type`);
  }
  assertKey(keys.nwkSKey, 'NwkSKey');
  assertKey(keys.appSKey, 'AppSKey');
  assertInt(input.fCnt32, 0, 0xffffffff, 'fCnt32');
  const devAddr = hexToLittleEndian(input.devAddr, 4, 'devAddr');
  const fOpts = input.fOpts ?? new Uint8Array(0);
  if (fOpts.length > 15) {
    throw new MaverickError(ErrorCode.LorawanCodec, `FOpts of ${fOpts.length} bytes exceeds 15`, {
      hint: 'send the rest of the MAC commands in a later frame or on FPort 0',
    });
  }
  const payload = input.payload ?? new Uint8Array(0);
  if (input.fPort === undefined && payload.length > 0) {
    throw new MaverickError(ErrorCode.LorawanCodec, 'a payload needs an fPort');
  }
  if (input.fPort !== undefined) assertInt(input.fPort, 0, 255, 'fPort');
  if (input.fPort === 0 && fOpts.length > 0) {
    throw new MaverickError(ErrorCode.LorawanCodec, 'FPort 0 carries MAC commands; FOpts must then be empty');
  }
  const f = input.fCtrl ?? {};
  let fCtrl = fOpts.length;
  if (f.adr) fCtrl |= 0x80;
  if (uplink && f.adrAckReq) fCtrl |= 0x40;
  if (f.ack) fCtrl |= 0x20;
  if (uplink ? f.classB : f.fPending) fCtrl |= 0x10;

  const dir = uplink ? 0 : 1;
  const hasPort = input.fPort !== undefined;
  const length = 8 + fOpts.length + (hasPort ? 1 + payload.length : 0) + MIC_LENGTH;
  const phy = new Uint8Array(length);
  phy[0] = mTypeIndex << 5;
  phy.set(devAddr, 1);
  phy[5] = fCtrl;
  phy[6] = input.fCnt32 & 0xff;
  phy[7] = (input.fCnt32 >>> 8) & 0xff;
  phy.set(fOpts, 8);
  let offset = 8 + fOpts.length;
  if (hasPort) {
    phy[offset++] = input.fPort as number;
    const key = input.fPort === 0 ? keys.nwkSKey : keys.appSKey;
    phy.set(frmCrypt(key, dir, devAddr, input.fCnt32, payload), offset);
  }
  const mic = b0Mic(keys.nwkSKey, dir, devAddr, input.fCnt32, phy.subarray(0, length - MIC_LENGTH));
  phy.set(mic, length - MIC_LENGTH);
  return phy;
}
