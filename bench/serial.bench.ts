/**
 * Serial concentrator protocol: RXPK frames/s through the streaming decoder
 * (COBS + CRC-16 + message decode) when the UART delivers 64-byte chunks, against
 * a baseline that only splits the same stream at 0x00 with Buffer.indexOf and
 * decodes nothing. The ratio is the price of checking and decoding every frame.
 * For scale: a 115200-baud UART carries at most ~250 RXPK frames/s of 40 bytes.
 */
import { encodeMessage } from '../proto/serial/codec.js';
import { SerialFrameDecoder } from '../proto/serial/frame-decoder.js';
import type { RxpkMessage } from '../proto/serial/messages.js';
import { type BenchFigure, opsPerSecond } from './figure.js';

const FRAMES = 2_000;
const CHUNK = 64;

function realisticStream(): { chunks: Buffer[]; frames: number } {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < FRAMES; i++) {
    const payload = new Uint8Array(12 + (i % 40));
    for (let k = 0; k < payload.length; k++) payload[k] = (i * 31 + k * 7) & 0xff;
    const msg: RxpkMessage = {
      type: 'rxpk',
      seq: i & 0xffff,
      tmst: (i * 123_457) >>> 0,
      frequencyHz: 867_100_000 + (i % 8) * 200_000,
      channel: i % 8,
      rfChain: i % 2,
      dataRate: { modulation: 'LORA', spreadingFactor: 7 + (i % 6), bandwidthKHz: 125 },
      codingRate: '4/5',
      rssi: -40 - (i % 80),
      snr: ((i % 60) - 20) / 4,
      crc: 'ok',
      payload,
    };
    parts.push(encodeMessage(msg));
  }
  const all = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += CHUNK) chunks.push(all.subarray(at, at + CHUNK));
  return { chunks, frames: FRAMES };
}

export async function run(): Promise<BenchFigure[]> {
  const { chunks, frames } = realisticStream();

  let decoded = 0;
  const ours = opsPerSecond(
    () => {
      const decoder = new SerialFrameDecoder();
      for (const c of chunks) decoded += decoder.pushMessages(c).length;
    },
    3_000,
    frames,
  );

  let split = 0;
  const baseline = opsPerSecond(
    () => {
      let pending: Buffer = Buffer.alloc(0);
      for (const c of chunks) {
        let data = pending.length ? Buffer.concat([pending, c]) : c;
        let zero = data.indexOf(0);
        while (zero >= 0) {
          split++;
          data = data.subarray(zero + 1);
          zero = data.indexOf(0);
        }
        pending = data;
      }
    },
    3_000,
    frames,
  );
  if (decoded === 0 || split === 0) throw new Error('serial bench decoded nothing');

  return [
    {
      name: 'serial: RXPK frames decoded (COBS + CRC-16 + message), 64-byte chunks',
      value: ours,
      unit: 'frames/s',
      baseline: { name: 'Buffer.indexOf(0) split, no decoding', value: baseline },
      ratio: ours / baseline,
      note: `a 115200-baud UART carries at most ~${Math.round(115_200 / 10 / 45)} such frames/s`,
    },
  ];
}
