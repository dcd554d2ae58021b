/**
 * Message codec of the Maverick serial concentrator protocol (PROTOCOL.md §3-§4):
 * message ⇄ frame content (header + body), and message → wire bytes
 * (CRC appended, COBS-stuffed, 0x00-terminated).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { cobsEncode } from './cobs.js';
import {
  CapabilityBit,
  CRC_BYTES,
  CrcStatus,
  HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_PHY_PAYLOAD,
  MessageType,
  REGION_BITS,
  RxFlag,
  SERIAL_PROTOCOL_VERSION,
  type SerialCapability,
  type SerialCrcStatus,
  type SerialRegion,
  TX_ACK_STATUS_CODES,
  TxFlag,
} from './constants.js';
import { crc16CcittFalse } from './crc16.js';
import {
  ByteReader,
  ByteWriter,
  badField,
  codingRateCode,
  codingRateFromCode,
  readDataRate,
  writeDataRate,
} from './fields.js';
import type { SerialMessage, SerialMessageType } from './messages.js';

const typeCodes: Record<SerialMessageType, number> = {
  'hello-request': MessageType.helloRequest,
  hello: MessageType.hello,
  ping: MessageType.ping,
  pong: MessageType.pong,
  rxpk: MessageType.rxpk,
  txpk: MessageType.txpk,
  'txpk-ack': MessageType.txpkAck,
  stat: MessageType.stat,
};

function checkPayload(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PHY_PAYLOAD) throw badField('serial message', 'payload length', payload.length);
  return payload;
}

/** Serialises a message to frame content: header + body, without CRC or stuffing. */
export function serializeMessage(msg: SerialMessage): Uint8Array {
  const w = new ByteWriter(MAX_FRAME_BYTES);
  w.u8('version', SERIAL_PROTOCOL_VERSION);
  w.u8('type', typeCodes[msg.type]);
  w.u16('seq', msg.seq);
  switch (msg.type) {
    case 'hello-request':
    case 'ping':
      break;
    case 'hello': {
      w.u8('firmware.major', msg.firmware.major);
      w.u8('firmware.minor', msg.firmware.minor);
      w.u8('firmware.patch', msg.firmware.patch);
      w.u8('protocolVersion', msg.protocolVersion);
      let caps = 0;
      for (const [name, bit] of Object.entries(CapabilityBit)) {
        if (msg.capabilities[name as SerialCapability]) caps |= 1 << bit;
      }
      w.u16('capabilities', caps);
      w.u8('channels', msg.channels);
      w.u8('rfChains', msg.rfChains);
      let regions = 0;
      for (const region of msg.regions) {
        const bit = REGION_BITS.indexOf(region);
        if (bit < 0) throw badField('hello', 'region', region);
        regions |= 1 << bit;
      }
      w.u16('regions', regions);
      w.u8('maxPayload', msg.maxPayload);
      break;
    }
    case 'pong':
      w.u32('tmst', msg.tmst);
      break;
    case 'rxpk': {
      const payload = checkPayload(msg.payload);
      w.u32('tmst', msg.tmst);
      w.u32('frequencyHz', msg.frequencyHz);
      w.u8('channel', msg.channel);
      w.u8('rfChain', msg.rfChain);
      writeDataRate(w, msg.dataRate);
      w.u8('codingRate', codingRateCode(msg.codingRate));
      w.i16('rssi', msg.rssi);
      w.i16('snr', Math.round(msg.snr * 4));
      w.u8('crc', CrcStatus[msg.crc]);
      w.u8('flags', msg.tmms === undefined ? 0 : RxFlag.gpsTimeValid);
      w.u64('tmms', msg.tmms ?? 0);
      w.u8('size', payload.length);
      w.raw(payload);
      break;
    }
    case 'txpk': {
      const payload = checkPayload(msg.payload);
      w.u16('id', msg.id);
      w.u8(
        'flags',
        (msg.immediate ? TxFlag.immediate : 0) | (msg.invertPolarity ? TxFlag.invertPolarity : 0),
      );
      w.u32('tmst', msg.tmst);
      w.u32('frequencyHz', msg.frequencyHz);
      w.u8('rfChain', msg.rfChain);
      w.i8('powerDbm', msg.powerDbm);
      writeDataRate(w, msg.dataRate);
      w.u8('codingRate', codingRateCode(msg.codingRate));
      w.u16('preamble', msg.preamble);
      w.u8('size', payload.length);
      w.raw(payload);
      break;
    }
    case 'txpk-ack': {
      const code = TX_ACK_STATUS_CODES.indexOf(msg.status);
      if (code < 0) throw badField('txpk-ack', 'status', msg.status);
      w.u16('id', msg.id);
      w.u8('status', code);
      break;
    }
    case 'stat':
      w.u32('rxReceived', msg.rxReceived);
      w.u32('rxOk', msg.rxOk);
      w.u32('rxForwarded', msg.rxForwarded);
      w.u32('txReceived', msg.txReceived);
      w.u32('txEmitted', msg.txEmitted);
      w.u32('hostFramesBad', msg.hostFramesBad);
      w.u32('uptimeS', msg.uptimeS);
      break;
  }
  return w.done();
}

/** Wraps frame content for the wire: appends CRC-16 (LE), COBS-stuffs, appends the 0x00 delimiter. */
export function wrapFrame(content: Uint8Array): Uint8Array {
  if (content.length + CRC_BYTES > MAX_FRAME_BYTES) {
    throw new MaverickError(ErrorCode.WireOversize, `serial frame of ${content.length} bytes is too long`, {
      context: { max: MAX_FRAME_BYTES - CRC_BYTES },
    });
  }
  const withCrc = new Uint8Array(content.length + CRC_BYTES);
  withCrc.set(content);
  const crc = crc16CcittFalse(content);
  withCrc[content.length] = crc & 0xff;
  withCrc[content.length + 1] = crc >>> 8;
  const stuffed = cobsEncode(withCrc);
  const out = new Uint8Array(stuffed.length + 1);
  out.set(stuffed);
  return out; // last byte stays 0x00: the delimiter
}

/** Encodes a message to the bytes written on the UART. Throws MaverickError(WireBadField) on out-of-range values. */
export function encodeMessage(msg: SerialMessage): Uint8Array {
  return wrapFrame(serializeMessage(msg));
}

const typeNames = new Map<number, SerialMessageType>(
  Object.entries(typeCodes).map(([name, code]) => [code, name as SerialMessageType]),
);

/**
 * Decodes frame content (header + body, CRC already checked and removed by
 * SerialFrameDecoder). Throws MaverickError: WireTruncated, WireBadVersion,
 * WireUnknownMessage or WireBadField.
 */
export function decodeMessage(frame: Uint8Array): SerialMessage {
  if (frame.length < HEADER_BYTES) {
    throw new MaverickError(
      ErrorCode.WireTruncated,
      `serial frame of ${frame.length} bytes has no complete header`,
      {
        hint: 'a frame needs at least version, type and sequence number (4 bytes)',
      },
    );
  }
  const version = frame[0] as number;
  if (version !== SERIAL_PROTOCOL_VERSION) {
    throw new MaverickError(ErrorCode.WireBadVersion, `serial protocol version ${version} is not supported`, {
      hint: `this host speaks version ${SERIAL_PROTOCOL_VERSION}; update the concentrator firmware or Maverick`,
      context: { version },
    });
  }
  const type = typeNames.get(frame[1] as number);
  if (type === undefined) {
    throw new MaverickError(
      ErrorCode.WireUnknownMessage,
      `serial message type 0x${(frame[1] as number).toString(16)} is unknown`,
      {
        hint: 'the firmware may be newer than this host; the frame was skipped',
        context: { type: frame[1] },
      },
    );
  }
  const seq = (frame[2] as number) | ((frame[3] as number) << 8);
  const r = new ByteReader(frame, HEADER_BYTES, type);
  const msg = decodeBody(type, seq, r);
  r.end();
  return msg;
}

function decodeBody(type: SerialMessageType, seq: number, r: ByteReader): SerialMessage {
  switch (type) {
    case 'hello-request':
    case 'ping':
      return { type, seq };
    case 'hello': {
      const firmware = { major: r.u8(), minor: r.u8(), patch: r.u8() };
      const protocolVersion = r.u8();
      const caps = r.u16();
      const capabilities = Object.fromEntries(
        Object.entries(CapabilityBit).map(([name, bit]) => [name, (caps & (1 << bit)) !== 0]),
      ) as Record<SerialCapability, boolean>;
      const channels = r.u8();
      const rfChains = r.u8();
      const regionBits = r.u16();
      const regions: SerialRegion[] = REGION_BITS.filter((_, bit) => (regionBits & (1 << bit)) !== 0);
      const maxPayload = r.u8();
      return { type, seq, firmware, protocolVersion, capabilities, channels, rfChains, regions, maxPayload };
    }
    case 'pong':
      return { type, seq, tmst: r.u32() };
    case 'rxpk': {
      const tmst = r.u32();
      const frequencyHz = r.u32();
      const channel = r.u8();
      const rfChain = r.u8();
      const dataRate = readDataRate(r, 'rxpk');
      const codingRate = codingRateFromCode('rxpk', r.u8());
      const rssi = r.i16();
      const snr = r.i16() / 4;
      const crcCode = r.u8();
      const crc = (Object.keys(CrcStatus) as SerialCrcStatus[]).find((k) => CrcStatus[k] === crcCode);
      if (crc === undefined) throw badField('rxpk', 'crc', crcCode);
      const flags = r.u8();
      const tmms = r.u64('tmms');
      const payload = r.raw(r.u8());
      const msg = {
        type,
        seq,
        tmst,
        frequencyHz,
        channel,
        rfChain,
        dataRate,
        rssi,
        snr,
        crc,
        payload,
      } as const;
      return {
        ...msg,
        ...(codingRate === undefined ? {} : { codingRate }),
        ...(flags & RxFlag.gpsTimeValid ? { tmms } : {}),
      };
    }
    case 'txpk': {
      const id = r.u16();
      const flags = r.u8();
      const tmst = r.u32();
      const frequencyHz = r.u32();
      const rfChain = r.u8();
      const powerDbm = r.i8();
      const dataRate = readDataRate(r, 'txpk');
      const codingRate = codingRateFromCode('txpk', r.u8());
      const preamble = r.u16();
      const payload = r.raw(r.u8());
      return {
        type,
        seq,
        id,
        immediate: (flags & TxFlag.immediate) !== 0,
        tmst,
        frequencyHz,
        rfChain,
        powerDbm,
        dataRate,
        ...(codingRate === undefined ? {} : { codingRate }),
        invertPolarity: (flags & TxFlag.invertPolarity) !== 0,
        preamble,
        payload,
      };
    }
    case 'txpk-ack': {
      const id = r.u16();
      const code = r.u8();
      const status = TX_ACK_STATUS_CODES[code];
      if (status === undefined) throw badField('txpk-ack', 'status', code);
      return { type, seq, id, status };
    }
    case 'stat':
      return {
        type,
        seq,
        rxReceived: r.u32(),
        rxOk: r.u32(),
        rxForwarded: r.u32(),
        txReceived: r.u32(),
        txEmitted: r.u32(),
        hostFramesBad: r.u32(),
        uptimeS: r.u32(),
      };
  }
}
