/**
 * Streaming receiver for the Maverick serial concentrator protocol (PROTOCOL.md §2):
 * feed it whatever the UART delivered, in any chunking, and it returns the frames
 * completed so far plus a typed error for every frame it had to drop. It keeps
 * partial frames across calls, resynchronises at the next 0x00 after garbage,
 * and never throws on bad input.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { cobsDecode } from './cobs.js';
import { decodeMessage } from './codec.js';
import { CRC_BYTES, HEADER_BYTES, MAX_ENCODED_FRAME_BYTES } from './constants.js';
import { crc16CcittFalse } from './crc16.js';
import type { SerialMessage } from './messages.js';

export type SerialFrameEvent =
  | { kind: 'frame'; content: Uint8Array }
  | { kind: 'error'; error: MaverickError };
export type SerialMessageEvent =
  | { kind: 'message'; message: SerialMessage }
  | { kind: 'error'; error: MaverickError };

export interface SerialDecoderCounters {
  /** Frames that passed COBS and CRC. */
  frames: number;
  badChecksum: number;
  badFraming: number;
  oversize: number;
  /** Frames shorter than header + CRC. */
  truncated: number;
  /** Frames that passed the CRC but whose message did not decode (version, type, fields). */
  badMessage: number;
}

export class SerialFrameDecoder {
  private readonly block = new Uint8Array(MAX_ENCODED_FRAME_BYTES);
  private length = 0;
  /** Inside an oversize frame: skip everything up to the next delimiter. */
  private discarding = false;
  private readonly stats: SerialDecoderCounters = {
    frames: 0,
    badChecksum: 0,
    badFraming: 0,
    oversize: 0,
    truncated: 0,
    badMessage: 0,
  };

  /** Feeds received bytes; returns the frames (header + body, CRC removed) and errors completed by them. */
  push(chunk: Uint8Array): SerialFrameEvent[] {
    const events: SerialFrameEvent[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const zero = chunk.indexOf(0, pos);
      const end = zero < 0 ? chunk.length : zero;
      this.append(chunk, pos, end, events);
      if (zero < 0) break;
      this.finishBlock(events);
      pos = zero + 1;
    }
    return events;
  }

  /** push() followed by decodeMessage() on each frame: messages and typed errors, never a throw. */
  pushMessages(chunk: Uint8Array): SerialMessageEvent[] {
    const out: SerialMessageEvent[] = [];
    for (const ev of this.push(chunk)) {
      if (ev.kind === 'error') {
        out.push(ev);
        continue;
      }
      try {
        out.push({ kind: 'message', message: decodeMessage(ev.content) });
      } catch (err) {
        this.stats.badMessage++;
        out.push({ kind: 'error', error: asMaverickError(err) });
      }
    }
    return out;
  }

  /** Forgets a partial frame (call when the port is reopened). */
  reset(): void {
    this.length = 0;
    this.discarding = false;
  }

  counters(): Readonly<SerialDecoderCounters> {
    return { ...this.stats };
  }

  private append(chunk: Uint8Array, from: number, to: number, events: SerialFrameEvent[]): void {
    if (this.discarding || from === to) return;
    const n = to - from;
    if (this.length + n > this.block.length) {
      this.discarding = true;
      this.length = 0;
      this.stats.oversize++;
      events.push({
        kind: 'error',
        error: new MaverickError(
          ErrorCode.WireOversize,
          'serial frame exceeds the maximum length and was dropped',
          {
            hint: 'check the baud rate and that the device speaks the Maverick serial protocol',
            context: { maxEncodedBytes: this.block.length },
          },
        ),
      });
      return;
    }
    this.block.set(chunk.subarray(from, to), this.length);
    this.length += n;
  }

  private finishBlock(events: SerialFrameEvent[]): void {
    if (this.discarding) {
      this.discarding = false;
      this.length = 0;
      return;
    }
    if (this.length === 0) return; // back-to-back delimiters are idle fill, not frames
    const block = this.block.subarray(0, this.length);
    this.length = 0;
    let frame: Uint8Array;
    try {
      frame = cobsDecode(block);
    } catch (err) {
      this.stats.badFraming++;
      events.push({ kind: 'error', error: asMaverickError(err) });
      return;
    }
    if (frame.length < HEADER_BYTES + CRC_BYTES) {
      this.stats.truncated++;
      events.push({
        kind: 'error',
        error: new MaverickError(
          ErrorCode.WireTruncated,
          `serial frame of ${frame.length} bytes is too short`,
          {
            hint: 'a frame carries at least a 4-byte header and a 2-byte CRC; it was dropped',
          },
        ),
      });
      return;
    }
    const contentLength = frame.length - CRC_BYTES;
    const expected = crc16CcittFalse(frame, 0, contentLength);
    const actual = (frame[contentLength] as number) | ((frame[contentLength + 1] as number) << 8);
    if (expected !== actual) {
      this.stats.badChecksum++;
      events.push({
        kind: 'error',
        error: new MaverickError(
          ErrorCode.WireBadChecksum,
          'serial frame failed its CRC-16 check and was dropped',
          {
            hint: 'line noise or a baud-rate mismatch; check the cable and baudRate',
            context: { expected, actual },
          },
        ),
      });
      return;
    }
    this.stats.frames++;
    // Copy: the block buffer is reused for the next frame.
    events.push({ kind: 'frame', content: frame.slice(0, contentLength) });
  }
}

function asMaverickError(err: unknown): MaverickError {
  if (err instanceof MaverickError) return err;
  return new MaverickError(ErrorCode.WireBadField, `serial frame could not be decoded: ${String(err)}`, {
    cause: err,
  });
}
