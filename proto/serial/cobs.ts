/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, IEEE/ACM Transactions on
 * Networking 7(2), 1999). Removes every 0x00 from a frame so 0x00 can delimit
 * frames on the UART: a receiver that starts mid-frame, or sees line noise,
 * resynchronises at the next 0x00.
 */
import { ErrorCode, MaverickError } from '../errors.js';

/** Worst-case encoded size of `n` bytes (one overhead byte per 254, plus the first code byte). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

/** COBS-encodes `input` (no trailing delimiter). */
export function cobsEncode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(input.length));
  let codeIndex = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number;
    if (byte === 0) {
      out[codeIndex] = code;
      codeIndex = o++;
      code = 1;
      continue;
    }
    out[o++] = byte;
    code++;
    if (code === 0xff) {
      out[codeIndex] = code;
      codeIndex = o++;
      code = 1;
    }
  }
  out[codeIndex] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block (the bytes between two delimiters, delimiters excluded).
 * Throws MaverickError(WireBadFraming) when a code byte points past the end or a
 * 0x00 appears inside the block.
 */
export function cobsDecode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length);
  let o = 0;
  let i = 0;
  while (i < input.length) {
    const code = input[i] as number;
    if (code === 0) {
      throw new MaverickError(ErrorCode.WireBadFraming, 'COBS block contains a zero byte', {
        hint: 'frames must be COBS-encoded and delimited by 0x00 (see proto/serial/PROTOCOL.md)',
      });
    }
    if (i + code > input.length) {
      throw new MaverickError(ErrorCode.WireBadFraming, 'COBS code byte runs past the end of the frame', {
        hint: 'the frame was truncated or corrupted on the wire',
        context: { at: i, code, length: input.length },
      });
    }
    for (let k = 1; k < code; k++) {
      const byte = input[i + k] as number;
      if (byte === 0) {
        throw new MaverickError(ErrorCode.WireBadFraming, 'COBS block contains a zero byte');
      }
      out[o++] = byte;
    }
    i += code;
    // A code of 0xFF means "254 data bytes, no implied zero"; the final block never adds one.
    if (code !== 0xff && i < input.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
