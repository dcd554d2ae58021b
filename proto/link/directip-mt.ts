/**
 * Iridium SBD DirectIP, mobile-terminated side: the message a vendor sends
 * to the Iridium gateway's MT endpoint (one TCP connection per message) to
 * queue a payload for a modem, and the confirmation Iridium answers with.
 * Same framing as the MO side (directip.ts): revision 1, overall length, IEs.
 *
 *   0x41 MT header, 21 bytes: unique client message id (4), IMEI (15 ASCII
 *        digits), disposition flags (2: bit 0 flush the MT queue, bit 1 ring
 *        alert without payload, bit 3 update location, bit 4 high priority,
 *        bit 5 assign MTMSN)
 *   0x42 MT payload, 1..1890 bytes (a 9602/9603 takes at most 270)
 *   0x44 MT confirmation, 25 bytes: unique client message id (4), IMEI (15),
 *        auto id reference (4), MT message status (2, signed: 1..50 the
 *        message's place in the modem's queue, 0 success without payload,
 *        negative an error)
 * Parsing is for untrusted bytes: throws only MaverickError (LinkDirectIp).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { DIRECTIP_REVISION, encodeDirectIp } from './directip.js';

export const IEI_MT_HEADER = 0x41;
export const IEI_MT_PAYLOAD = 0x42;
export const IEI_MT_CONFIRMATION = 0x44;
export const MT_HEADER_BYTES = 21;
export const MT_CONFIRMATION_BYTES = 25;
export const MT_PAYLOAD_MAX = 1890;
/** A whole MT message at its largest. */
export const MT_MESSAGE_MAX = 3 + 3 + MT_HEADER_BYTES + 3 + MT_PAYLOAD_MAX;

export interface MtMessage {
  clientMessageId: number;
  imei: string;
  /** Disposition flags; 0 queues the payload normally. */
  flags: number;
  payload?: Uint8Array;
}

export interface MtConfirmation {
  clientMessageId: number;
  imei: string;
  autoIdReference: number;
  /** > 0 place in the queue, 0 success without payload, < 0 an error (mtStatusMeaning). */
  status: number;
}

const MT_STATUS: Record<number, string> = {
  [-1]: 'invalid IMEI (not 15 digits)',
  [-2]: 'unknown IMEI (not provisioned for DirectIP)',
  [-3]: 'payload larger than the modem takes',
  [-4]: 'payload expected but none received',
  [-5]: "the modem's MT queue is full",
  [-6]: 'MT resources unavailable',
  [-7]: 'violation of the MT DirectIP protocol',
  [-8]: 'ring alerts to this IMEI are disabled',
  [-9]: 'the IMEI is not attached (not set up to receive ring alerts)',
};

export function mtStatusMeaning(status: number): string {
  if (status > 0) return `queued at position ${status}`;
  if (status === 0) return 'accepted without payload';
  return MT_STATUS[status] ?? `error ${status}`;
}

function mtError(message: string): MaverickError {
  return new MaverickError(ErrorCode.LinkDirectIp, `DirectIP MT: ${message}`);
}

const isImei = (s: string) => /^[0-9]{15}$/.test(s);

export function encodeMtMessage(m: MtMessage): Uint8Array {
  if (!isImei(m.imei)) throw mtError(`an IMEI is 15 digits, got "${m.imei}"`);
  if (m.payload && (m.payload.length < 1 || m.payload.length > MT_PAYLOAD_MAX))
    throw mtError(`an MT payload is 1..${MT_PAYLOAD_MAX} bytes, got ${m.payload.length}`);
  const header = Buffer.alloc(MT_HEADER_BYTES);
  header.writeUInt32BE(m.clientMessageId >>> 0, 0);
  header.write(m.imei, 4, 'latin1');
  header.writeUInt16BE(m.flags & 0xffff, 19);
  return encodeDirectIp([
    [IEI_MT_HEADER, header],
    ...(m.payload ? [[IEI_MT_PAYLOAD, m.payload] as const] : []),
  ]);
}

/** How many bytes the whole message has, from its first 3 (undefined while fewer arrived). */
export function mtMessageLength(prefix: Uint8Array, max = MT_MESSAGE_MAX): number | undefined {
  if (prefix.length < 3) return undefined;
  if (prefix[0] !== DIRECTIP_REVISION) throw mtError(`protocol revision ${prefix[0]} is not supported`);
  const total = 3 + ((prefix[1]! << 8) | prefix[2]!);
  if (total > max) throw mtError(`a message of ${total} bytes is larger than allowed (${max})`);
  return total;
}

/** Parses an MT message (the Iridium side: the emulator). */
export function decodeMtMessage(bytes: Uint8Array): MtMessage {
  if (mtMessageLength(bytes) !== bytes.length) throw mtError('overall length does not match the message');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Omit<MtMessage, 'payload'> | undefined;
  let payload: Uint8Array | undefined;
  for (let at = 3; at < bytes.length; ) {
    if (at + 3 > bytes.length) throw mtError(`an IE header is cut short at byte ${at}`);
    const iei = view[at]!;
    const length = view.readUInt16BE(at + 1);
    const start = at + 3;
    if (start + length > bytes.length) throw mtError(`IE 0x${iei.toString(16)} runs past the message end`);
    if (iei === IEI_MT_HEADER) {
      if (header || length !== MT_HEADER_BYTES) throw mtError('a bad or repeated MT header');
      const imei = view.toString('latin1', start + 4, start + 19);
      if (!isImei(imei)) throw mtError('an MT header IMEI is not 15 digits');
      header = { clientMessageId: view.readUInt32BE(start), imei, flags: view.readUInt16BE(start + 19) };
    } else if (iei === IEI_MT_PAYLOAD) {
      if (payload || length < 1 || length > MT_PAYLOAD_MAX) throw mtError('a bad or repeated MT payload');
      payload = bytes.slice(start, start + length);
    }
    at = start + length;
  }
  if (!header) throw mtError('a message without an MT header');
  return { ...header, ...(payload ? { payload } : {}) };
}

export function encodeMtConfirmation(c: MtConfirmation): Uint8Array {
  const content = Buffer.alloc(MT_CONFIRMATION_BYTES);
  content.writeUInt32BE(c.clientMessageId >>> 0, 0);
  content.write(c.imei.padEnd(15, '0').slice(0, 15), 4, 'latin1');
  content.writeUInt32BE(c.autoIdReference >>> 0, 19);
  content.writeInt16BE(c.status, 23);
  return encodeDirectIp([[IEI_MT_CONFIRMATION, content]]);
}

/** Parses Iridium's answer to an MT message. */
export function decodeMtConfirmation(bytes: Uint8Array): MtConfirmation {
  if (
    bytes.length !== 6 + MT_CONFIRMATION_BYTES ||
    mtMessageLength(bytes) !== bytes.length ||
    bytes[3] !== IEI_MT_CONFIRMATION ||
    ((bytes[4]! << 8) | bytes[5]!) !== MT_CONFIRMATION_BYTES
  )
    throw mtError('not an MT confirmation message');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    clientMessageId: view.readUInt32BE(6),
    imei: view.toString('latin1', 10, 25),
    autoIdReference: view.readUInt32BE(25),
    status: view.readInt16BE(29),
  };
}
