/**
 * Little-endian field readers/writers shared by the serial codec, with the
 * range checks that turn bad values into MaverickError(WireBadField).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import type { DataRate } from '../radio.js';
import { BANDWIDTH_KHZ, CODING_RATES, Modulation } from './constants.js';

export class ByteWriter {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(field: string, v: number): void {
    this.view.setUint8(this.offset, checkInt(field, v, 0, 0xff));
    this.offset += 1;
  }
  i8(field: string, v: number): void {
    this.view.setInt8(this.offset, checkInt(field, v, -128, 127));
    this.offset += 1;
  }
  u16(field: string, v: number): void {
    this.view.setUint16(this.offset, checkInt(field, v, 0, 0xffff), true);
    this.offset += 2;
  }
  i16(field: string, v: number): void {
    this.view.setInt16(this.offset, checkInt(field, v, -0x8000, 0x7fff), true);
    this.offset += 2;
  }
  u32(field: string, v: number): void {
    this.view.setUint32(this.offset, checkInt(field, v, 0, 0xffffffff), true);
    this.offset += 4;
  }
  u64(field: string, v: number): void {
    this.view.setBigUint64(this.offset, BigInt(checkInt(field, v, 0, Number.MAX_SAFE_INTEGER)), true);
    this.offset += 8;
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.offset);
    this.offset += b.length;
  }
  done(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}

export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = start;
  }

  private need(n: number): number {
    if (this.offset + n > this.bytes.length) {
      throw new MaverickError(ErrorCode.WireTruncated, `${this.what} body is too short`, {
        hint: 'the MCU and host disagree on the message layout; check both speak the same protocol version',
        context: { needed: this.offset + n, length: this.bytes.length },
      });
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  i8(): number {
    return this.view.getInt8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(field: string): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw badField(this.what, field, v.toString());
    return Number(v);
  }
  raw(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.slice(at, at + n);
  }
  /** A message must end exactly where its layout says; trailing bytes mean a layout mismatch. */
  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new MaverickError(
        ErrorCode.WireBadField,
        `${this.what} has ${this.bytes.length - this.offset} trailing bytes`,
        {
          hint: 'the MCU and host disagree on the message layout; check both speak the same protocol version',
        },
      );
    }
  }
}

export function badField(what: string, field: string, value: unknown): MaverickError {
  return new MaverickError(
    ErrorCode.WireBadField,
    `${what}: field ${field} has an invalid value ${String(value)}`,
    {
      hint: 'see proto/serial/PROTOCOL.md for the allowed values',
      context: { field, value: String(value) },
    },
  );
}

function checkInt(field: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw badField('serial message', field, v);
  return v;
}

/** Writes modulation u8 + datr u32 (LoRa: SF in byte 0, bandwidth code in byte 1; FSK: bitrate). */
export function writeDataRate(w: ByteWriter, dr: DataRate): void {
  if (dr.modulation === 'LORA') {
    const bwCode = (BANDWIDTH_KHZ as readonly number[]).indexOf(dr.bandwidthKHz);
    if (bwCode < 0) throw badField('serial message', 'bandwidthKHz', dr.bandwidthKHz);
    if (!Number.isInteger(dr.spreadingFactor) || dr.spreadingFactor < 5 || dr.spreadingFactor > 12)
      throw badField('serial message', 'spreadingFactor', dr.spreadingFactor);
    w.u8('modulation', Modulation.lora);
    w.u8('spreadingFactor', dr.spreadingFactor);
    w.u8('bandwidth', bwCode);
    w.u16('reserved', 0);
  } else {
    w.u8('modulation', Modulation.fsk);
    w.u32('bitrate', dr.bitrate);
  }
}

export function readDataRate(r: ByteReader, what: string): DataRate {
  const modulation = r.u8();
  if (modulation === Modulation.lora) {
    const spreadingFactor = r.u8();
    const bwCode = r.u8();
    r.u16(); // reserved, ignored so a later version can use it
    const bandwidthKHz = BANDWIDTH_KHZ[bwCode];
    if (spreadingFactor < 5 || spreadingFactor > 12) throw badField(what, 'spreadingFactor', spreadingFactor);
    if (bandwidthKHz === undefined) throw badField(what, 'bandwidth', bwCode);
    return { modulation: 'LORA', spreadingFactor, bandwidthKHz };
  }
  if (modulation === Modulation.fsk) {
    const bitrate = r.u32();
    if (bitrate === 0) throw badField(what, 'bitrate', bitrate);
    return { modulation: 'FSK', bitrate };
  }
  throw badField(what, 'modulation', modulation);
}

export function codingRateCode(cr: string | undefined): number {
  const code = (CODING_RATES as readonly (string | undefined)[]).indexOf(cr);
  if (code < 0) throw badField('serial message', 'codingRate', cr);
  return code;
}

export function codingRateFromCode(what: string, code: number): string | undefined {
  if (code >= CODING_RATES.length) throw badField(what, 'codingRate', code);
  return CODING_RATES[code];
}
