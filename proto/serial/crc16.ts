/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0x0000),
 * as catalogued in Greg Cook's "Catalogue of parametrised CRC algorithms"
 * (check value for ASCII "123456789" is 0x29B1).
 *
 * Why CRC-16 and not CRC-32: frames are at most a few hundred bytes, where
 * CRC-16/CCITT still detects every burst error up to 16 bits and every 1-3 bit
 * error; it costs a 512-byte table (or none) on a small MCU, many MCUs compute
 * it in hardware, and it adds two bytes instead of four to every frame on a
 * 115200-baud UART.
 */

const table = buildTable();

function buildTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    t[i] = crc;
  }
  return t;
}

/** CRC-16/CCITT-FALSE of `bytes[start, end)`. */
export function crc16CcittFalse(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}
