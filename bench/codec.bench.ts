/**
 * Payload codec throughput: the built-in Cayenne LPP decoder, and a typical
 * JavaScript codec run sandboxed in QuickJS (worker thread, JSON in and out)
 * against the same function run natively in Node as the baseline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCayenneLpp } from '../kernel/codec/cayenne-lpp.js';
import { CodecRunner } from '../kernel/codec/codec-runner.js';
import { type BenchFigure, opsPerSecond, opsPerSecondAsync } from './figure.js';

/** Temperature 27.2 °C, humidity 61 %, barometer 1013.2 hPa, battery 3.61 V: a typical 15-byte farm uplink. */
const LPP_PAYLOAD = new Uint8Array([
  0x01, 0x67, 0x01, 0x10, 0x02, 0x68, 0x7a, 0x03, 0x73, 0x27, 0x94, 0x04, 0x74, 0x01, 0x69,
]);

const JS_CODEC = `
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 7) return { errors: ['short frame'] };
  var t = (b[0] << 8) | b[1];
  if (t & 0x8000) t -= 0x10000;
  return {
    data: { temperature: t / 10, humidity: b[2] / 2, batteryVolts: ((b[3] << 8) | b[4]) / 1000,
            soilMoisture: ((b[5] << 8) | b[6]) / 100, hour: input.recvTime.getUTCHours() },
    warnings: [],
    errors: []
  };
}`;
const JS_PAYLOAD = new Uint8Array([0x01, 0x10, 0x7a, 0x0e, 0x1a, 0x0b, 0xb8]);

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];

  let sink = 0;
  const cayenne = opsPerSecond(() => {
    sink += decodeCayenneLpp(LPP_PAYLOAD).errors.length;
  }, 2000);
  figures.push({ name: 'Cayenne LPP decode (4 readings, 15 bytes)', value: cayenne, unit: 'decodes/s' });

  const dir = mkdtempSync(join(tmpdir(), 'maverick-codec-bench-'));
  const path = join(dir, 'codec.js');
  writeFileSync(path, JS_CODEC);
  const runner = new CodecRunner();
  try {
    const ref = { kind: 'js' as const, path };
    const recvTime = new Date();
    const first = await runner.decodeUplink(ref, { bytes: JS_PAYLOAD, fPort: 2, recvTime });
    if (first.errors.length > 0) throw new Error(`bench codec failed: ${first.errors.join('; ')}`);
    const sandboxed = await opsPerSecondAsync(async () => {
      const r = await runner.decodeUplink(ref, { bytes: JS_PAYLOAD, fPort: 2, recvTime });
      sink += r.errors.length;
    }, 3000);

    // The same source, compiled by V8 in this process: what the sandbox costs.
    const nativeDecode = new Function(`${JS_CODEC}; return decodeUplink;`)() as (input: unknown) => {
      errors: string[];
    };
    const native = opsPerSecond(() => {
      const r = nativeDecode({
        bytes: Array.from(JS_PAYLOAD),
        fPort: 2,
        recvTime: new Date(recvTime.getTime()),
      });
      sink += r.errors.length;
    }, 2000);
    figures.push({
      name: 'JS codec decode in QuickJS (worker, 100 ms / 16 MiB limits)',
      value: sandboxed,
      unit: 'decodes/s',
      baseline: { name: 'same function native in Node', value: native },
      ratio: sandboxed / native,
      note: 'includes JSON marshalling and the worker round trip',
    });
  } finally {
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (sink < 0) console.log(sink); // keeps the work observable to the optimiser
  return figures;
}
