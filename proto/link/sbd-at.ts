/**
 * The Iridium SBD AT command responses Maverick uses, as pure parsers and
 * formatters shared by the modem driver (gateway/) and its emulator
 * (simulator/). Source: Iridium ISU AT Command Reference (v2.45) §§ +CSQ,
 * +SBDWB, +SBDRB, +SBDIX, +SBDD.
 */
import { ErrorCode, MaverickError } from '../errors.js';

function modemError(message: string, line?: string): MaverickError {
  return new MaverickError(ErrorCode.LinkModem, message, {
    context: line === undefined ? undefined : { line: line.slice(0, 80) },
  });
}

/** Least significant 2 bytes of the sum of all message bytes (ISU AT Command Reference, +SBDWB). */
export function sbdChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xffff;
  return sum;
}

/** The binary stream written after READY: message then 2-byte checksum, high byte first. */
export function encodeSbdwbPayload(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 2);
  out.set(message);
  const sum = sbdChecksum(message);
  out[message.length] = sum >> 8;
  out[message.length + 1] = sum & 0xff;
  return out;
}

/** `+CSQ:<rssi>` (also `+CSQF:`), rssi 0..5 bars. */
export function parseCsq(line: string): number {
  const m = /^\+CSQF?:\s*(\d{1,3})\s*$/.exec(line.trim());
  const bars = m ? Number(m[1]) : Number.NaN;
  if (!(bars >= 0 && bars <= 5)) throw modemError('the modem answered +CSQ with an unexpected line', line);
  return bars;
}

export function formatCsq(bars: number): string {
  return `+CSQ:${bars}`;
}

/** +SBDWB result code 0..3: 0 written, 1 timeout, 2 bad checksum, 3 bad size. */
export function parseSbdwbResult(line: string): 0 | 1 | 2 | 3 {
  const t = line.trim();
  if (t === '0' || t === '1' || t === '2' || t === '3') return Number(t) as 0 | 1 | 2 | 3;
  throw modemError('the modem answered +SBDWB with an unexpected line', line);
}

export interface SbdixResult {
  /** 0..4 success, 5..36 failure (e.g. 32 no network service, 35 busy). */
  moStatus: number;
  momsn: number;
  /** 0 no MT message, 1 received, 2 error checking the mailbox. */
  mtStatus: number;
  mtmsn: number;
  mtLength: number;
  /** MT messages still waiting at the Iridium gateway. */
  mtQueued: number;
}

export function moSucceeded(r: SbdixResult): boolean {
  return r.moStatus <= 4;
}

/** `+SBDIX: <MO status>, <MOMSN>, <MT status>, <MTMSN>, <MT length>, <MT queued>`. */
export function parseSbdix(line: string): SbdixResult {
  const m = /^\+SBDIX:\s*(\d{1,3}),\s*(\d{1,5}),\s*(\d{1,3}),\s*(\d{1,5}),\s*(\d{1,4}),\s*(\d{1,4})\s*$/.exec(
    line.trim(),
  );
  if (!m) throw modemError('the modem answered +SBDIX with an unexpected line', line);
  const [moStatus, momsn, mtStatus, mtmsn, mtLength, mtQueued] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (moStatus > 36 || mtStatus > 2 || momsn > 65535 || mtmsn > 65535) {
    throw modemError('the modem answered +SBDIX with values out of range', line);
  }
  return { moStatus, momsn, mtStatus, mtmsn, mtLength, mtQueued };
}

export function formatSbdix(r: SbdixResult): string {
  return `+SBDIX: ${r.moStatus}, ${r.momsn}, ${r.mtStatus}, ${r.mtmsn}, ${r.mtLength}, ${r.mtQueued}`;
}

/** +SBDRB stream: {2-byte length} + message + {2-byte checksum}, high bytes first. */
export function encodeSbdrbFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 4);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  const sum = sbdChecksum(message);
  out[message.length + 2] = sum >> 8;
  out[message.length + 3] = sum & 0xff;
  return out;
}

/**
 * Reads an +SBDRB frame from the start of `buffer`: undefined while more bytes
 * are needed, else the message and how many bytes it used. Throws LinkModem on
 * a length over `maxLength` or a checksum mismatch.
 */
export function parseSbdrbFrame(
  buffer: Uint8Array,
  maxLength = 1890,
): { message: Uint8Array; consumed: number } | undefined {
  if (buffer.length < 2) return undefined;
  const length = (buffer[0]! << 8) | buffer[1]!;
  if (length > maxLength)
    throw modemError(`+SBDRB announced ${length} bytes, more than the ${maxLength} an MT message may hold`);
  if (buffer.length < length + 4) return undefined;
  const message = Uint8Array.from(buffer.subarray(2, 2 + length));
  const sum = (buffer[2 + length]! << 8) | buffer[3 + length]!;
  if (sum !== sbdChecksum(message))
    throw modemError(`+SBDRB checksum 0x${sum.toString(16)} does not match the message`);
  return { message, consumed: length + 4 };
}
