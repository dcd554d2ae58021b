/**
 * Iridium SBD DirectIP, mobile-originated side: the messages the Iridium
 * gateway delivers over TCP (one connection per MO message) and the
 * confirmation a receiver configured to confirm sends back. Layout (all
 * integers unsigned big-endian), protocol revision 1:
 *
 *   byte 0      protocol revision number (1)
 *   bytes 1..2  overall message length: the bytes that follow
 *   then information elements (IEs), each [IEI:1][length:2][content]:
 *     0x01 MO header, 28 bytes: CDR reference (4), IMEI (15 ASCII digits),
 *          session status (1), MOMSN (2), MTMSN (2), time of session (4, Unix s)
 *     0x02 MO payload, 1..1960 bytes (what the modem sent)
 *     0x03 MO location, 11 bytes: flags (1: bits 7..4 reserved, 3..2 format
 *          code 0, bit 1 south, bit 0 west), latitude degrees (1), thousandths
 *          of a minute (2), longitude degrees (1), thousandths of a minute (2),
 *          CEP radius in km (4)
 *     0x05 MO confirmation, 1 byte: 1 success, 0 failure (receiver → Iridium)
 *
 * Parsing is for untrusted bytes: every length is checked against what is
 * there and against the IE's fixed size; it throws only MaverickError
 * (LinkDirectIp). Unknown IEs are skipped by their length (forward
 * compatible); a repeated IE is refused.
 */
import { ErrorCode, MaverickError } from '../errors.js';

export const DIRECTIP_REVISION = 1;
export const IEI_MO_HEADER = 0x01;
export const IEI_MO_PAYLOAD = 0x02;
export const IEI_MO_LOCATION = 0x03;
export const IEI_MO_CONFIRMATION = 0x05;
export const MO_HEADER_BYTES = 28;
export const MO_LOCATION_BYTES = 11;
/** The largest MO payload of any Iridium SBD transceiver (9522B); a 9602/9603 sends at most 340. */
export const MO_PAYLOAD_MAX = 1960;
/** Revision, length, and every IE at its largest: a receiver never needs to buffer more. */
export const MO_MESSAGE_MAX = 3 + (3 + MO_HEADER_BYTES) + (3 + MO_PAYLOAD_MAX) + (3 + MO_LOCATION_BYTES);

/** Session status codes 0..2 deliver the payload; the others report a failed session. */
export const SESSION_STATUS_DELIVERED = new Set([0, 1, 2]);

export interface MoHeader {
  /** The Iridium gateway's call data record id: unique per delivered message (re-deliveries repeat it). */
  cdrReference: number;
  /** 15 ASCII digits. */
  imei: string;
  sessionStatus: number;
  /** Mobile-originated message sequence number (the modem counts up, wrapping at 65536). */
  momsn: number;
  mtmsn: number;
  /** Unix seconds. */
  timeOfSession: number;
}

export interface MoLocation {
  /** Degrees, negative south. */
  latitude: number;
  /** Degrees, negative west. */
  longitude: number;
  cepRadiusKm: number;
}

export interface MoMessage {
  header: MoHeader;
  payload?: Uint8Array;
  location?: MoLocation;
}

function directIpError(message: string, context?: Record<string, unknown>): MaverickError {
  return new MaverickError(ErrorCode.LinkDirectIp, `DirectIP: ${message}`, { context });
}

/**
 * How many bytes the whole message has, from its first 3 bytes (undefined
 * while fewer arrived). Throws for a wrong revision or a length no MO
 * message can have, so a receiver stops reading at once.
 */
export function moMessageLength(prefix: Uint8Array): number | undefined {
  if (prefix.length < 3) return undefined;
  if (prefix[0] !== DIRECTIP_REVISION)
    throw directIpError(`protocol revision ${prefix[0]} is not supported (expected ${DIRECTIP_REVISION})`);
  const total = 3 + ((prefix[1]! << 8) | prefix[2]!);
  if (total > MO_MESSAGE_MAX)
    throw directIpError(`a message of ${total} bytes is larger than any MO message (${MO_MESSAGE_MAX})`);
  if (total < 3 + 3 + MO_HEADER_BYTES)
    throw directIpError(`a message of ${total} bytes cannot hold an MO header`);
  return total;
}

const isImei = (s: string) => /^[0-9]{15}$/.test(s);

function decodeLocation(b: Uint8Array): MoLocation {
  const flags = b[0]!;
  const latDeg = b[1]!;
  const latMilli = (b[2]! << 8) | b[3]!;
  const lonDeg = b[4]!;
  const lonMilli = (b[5]! << 8) | b[6]!;
  if (latDeg > 90 || lonDeg > 180 || latMilli > 59_999 || lonMilli > 59_999)
    throw directIpError('an MO location is out of range', { latDeg, lonDeg, latMilli, lonMilli });
  const lat = latDeg + latMilli / 60_000;
  const lon = lonDeg + lonMilli / 60_000;
  return {
    latitude: flags & 0x02 ? -lat : lat,
    longitude: flags & 0x01 ? -lon : lon,
    cepRadiusKm: ((b[7]! << 24) | (b[8]! << 16) | (b[9]! << 8) | b[10]!) >>> 0,
  };
}

/** Parses one whole MO message (exactly the bytes `moMessageLength` named). */
export function decodeMoMessage(bytes: Uint8Array): MoMessage {
  const total = moMessageLength(bytes);
  if (total === undefined) throw directIpError(`a message is at least 3 bytes, got ${bytes.length}`);
  if (total !== bytes.length)
    throw directIpError(`overall length says ${total} bytes, got ${bytes.length}`, {
      total,
      got: bytes.length,
    });
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seen = new Set<number>();
  let header: MoHeader | undefined;
  let payload: Uint8Array | undefined;
  let location: MoLocation | undefined;
  let at = 3;
  while (at < bytes.length) {
    if (at + 3 > bytes.length) throw directIpError(`an IE header is cut short at byte ${at}`);
    const iei = view[at]!;
    const length = view.readUInt16BE(at + 1);
    const start = at + 3;
    const end = start + length;
    if (end > bytes.length)
      throw directIpError(`IE 0x${iei.toString(16)} of ${length} bytes runs past the message end`, { at });
    if (seen.has(iei)) throw directIpError(`IE 0x${iei.toString(16)} appears twice`);
    seen.add(iei);
    const content = bytes.subarray(start, end);
    if (iei === IEI_MO_HEADER) {
      if (length !== MO_HEADER_BYTES)
        throw directIpError(`an MO header is ${MO_HEADER_BYTES} bytes, got ${length}`);
      const imei = Buffer.from(content.subarray(4, 19)).toString('latin1');
      if (!isImei(imei)) throw directIpError('an MO header IMEI is not 15 digits');
      header = {
        cdrReference: view.readUInt32BE(start),
        imei,
        sessionStatus: content[19]!,
        momsn: view.readUInt16BE(start + 20),
        mtmsn: view.readUInt16BE(start + 22),
        timeOfSession: view.readUInt32BE(start + 24),
      };
    } else if (iei === IEI_MO_PAYLOAD) {
      if (length < 1 || length > MO_PAYLOAD_MAX)
        throw directIpError(`an MO payload is 1..${MO_PAYLOAD_MAX} bytes, got ${length}`);
      payload = content.slice();
    } else if (iei === IEI_MO_LOCATION) {
      if (length !== MO_LOCATION_BYTES)
        throw directIpError(`an MO location is ${MO_LOCATION_BYTES} bytes, got ${length}`);
      location = decodeLocation(content);
    }
    at = end;
  }
  if (!header) throw directIpError('a message without an MO header');
  return { header, ...(payload ? { payload } : {}), ...(location ? { location } : {}) };
}

/** A whole DirectIP message (revision, overall length) of the given IEs, in order. */
export function encodeDirectIp(ies: readonly (readonly [number, Uint8Array])[]): Uint8Array {
  return withPrelude(ies.map(([iei, content]) => ie(iei, content)));
}

function ie(iei: number, content: Uint8Array): Buffer {
  const out = Buffer.alloc(3 + content.length);
  out[0] = iei;
  out.writeUInt16BE(content.length, 1);
  out.set(content, 3);
  return out;
}

function withPrelude(ies: Buffer[]): Uint8Array {
  const body = Buffer.concat(ies);
  const out = Buffer.alloc(3 + body.length);
  out[0] = DIRECTIP_REVISION;
  out.writeUInt16BE(body.length, 1);
  body.copy(out, 3);
  return new Uint8Array(out);
}

function encodeLocation(l: MoLocation): Buffer {
  const out = Buffer.alloc(MO_LOCATION_BYTES);
  const part = (v: number) => {
    const milli = Math.round(Math.abs(v) * 60_000);
    return [Math.floor(milli / 60_000), milli % 60_000] as const;
  };
  const [latDeg, latMilli] = part(l.latitude);
  const [lonDeg, lonMilli] = part(l.longitude);
  out[0] = (l.latitude < 0 ? 0x02 : 0) | (l.longitude < 0 ? 0x01 : 0);
  out[1] = latDeg;
  out.writeUInt16BE(latMilli, 2);
  out[4] = lonDeg;
  out.writeUInt16BE(lonMilli, 5);
  out.writeUInt32BE(l.cepRadiusKm, 7);
  return out;
}

/** Builds an MO message as the Iridium gateway sends it (the emulator's side). */
export function encodeMoMessage(m: MoMessage): Uint8Array {
  const h = m.header;
  if (!isImei(h.imei)) throw directIpError(`an IMEI is 15 digits, got "${h.imei}"`);
  if (m.payload && (m.payload.length < 1 || m.payload.length > MO_PAYLOAD_MAX))
    throw directIpError(`an MO payload is 1..${MO_PAYLOAD_MAX} bytes, got ${m.payload.length}`);
  const header = Buffer.alloc(MO_HEADER_BYTES);
  header.writeUInt32BE(h.cdrReference >>> 0, 0);
  header.write(h.imei, 4, 'latin1');
  header[19] = h.sessionStatus;
  header.writeUInt16BE(h.momsn & 0xffff, 20);
  header.writeUInt16BE(h.mtmsn & 0xffff, 22);
  header.writeUInt32BE(h.timeOfSession >>> 0, 24);
  const ies = [ie(IEI_MO_HEADER, header)];
  if (m.payload) ies.push(ie(IEI_MO_PAYLOAD, m.payload));
  if (m.location) ies.push(ie(IEI_MO_LOCATION, encodeLocation(m.location)));
  return withPrelude(ies);
}

/** The MO confirmation message (revision, length, IE 0x05 with 1 success / 0 failure). */
export function encodeMoConfirmation(success: boolean): Uint8Array {
  return withPrelude([ie(IEI_MO_CONFIRMATION, Uint8Array.of(success ? 1 : 0))]);
}

export const MO_CONFIRMATION_BYTES = 7;

/** Reads a confirmation (the emulator's side). */
export function decodeMoConfirmation(bytes: Uint8Array): boolean {
  if (
    bytes.length !== MO_CONFIRMATION_BYTES ||
    bytes[0] !== DIRECTIP_REVISION ||
    bytes[1] !== 0 ||
    bytes[2] !== 4 ||
    bytes[3] !== IEI_MO_CONFIRMATION ||
    bytes[4] !== 0 ||
    bytes[5] !== 1 ||
    (bytes[6] !== 0 && bytes[6] !== 1)
  )
    throw directIpError('not an MO confirmation message');
  return bytes[6] === 1;
}
