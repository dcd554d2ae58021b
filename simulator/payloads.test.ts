import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../proto/errors.js';
import { encodeCayenneLpp, SoilProbe, WeatherStation } from './payloads.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Test-only reader for the base types we emit: [channel, type, value]. */
function readLpp(bytes: Uint8Array): [number, number, number][] {
  const spec: Record<number, [number, boolean, number]> = {
    0: [1, false, 1],
    2: [2, true, 100],
    101: [2, false, 1],
    103: [2, true, 10],
    104: [1, false, 2],
    115: [2, false, 10],
  };
  const out: [number, number, number][] = [];
  for (let i = 0; i < bytes.length; ) {
    const [size, signed, scale] = spec[bytes[i + 1]];
    let raw = 0;
    for (let k = 0; k < size; k++) raw = raw * 256 + bytes[i + 2 + k];
    if (signed && raw >= 2 ** (size * 8 - 1)) raw -= 2 ** (size * 8);
    out.push([bytes[i], bytes[i + 1], raw / scale]);
    i += 2 + size;
  }
  return out;
}

describe('Cayenne LPP encoder', () => {
  it('matches the examples of the myDevices Cayenne LPP documentation', () => {
    // "Device with 2 temperature sensors": 03 67 01 10 05 67 00 FF -> 27.2 °C and 25.5 °C.
    expect(
      hex(
        encodeCayenneLpp([
          { channel: 3, kind: 'temperature', value: 27.2 },
          { channel: 5, kind: 'temperature', value: 25.5 },
        ]),
      ),
    ).toBe('03670110056700ff');
    // "Temperature -4.1 °C": 01 67 FF D7.
    expect(hex(encodeCayenneLpp([{ channel: 1, kind: 'temperature', value: -4.1 }]))).toBe('0167ffd7');
    expect(hex(encodeCayenneLpp([{ channel: 2, kind: 'humidity', value: 40.5 }]))).toBe('026851');
    expect(hex(encodeCayenneLpp([{ channel: 3, kind: 'barometer', value: 1013.2 }]))).toBe('03732794');
    expect(hex(encodeCayenneLpp([{ channel: 9, kind: 'analogInput', value: -3.61 }]))).toBe('0902fe97');
  });

  it('refuses values the type cannot carry, with a typed error', () => {
    for (const bad of [
      { channel: 1, kind: 'humidity' as const, value: 130 },
      { channel: 1, kind: 'temperature' as const, value: 4000 },
      { channel: 256, kind: 'temperature' as const, value: 1 },
      { channel: 1, kind: 'analogInput' as const, value: Number.NaN },
    ]) {
      try {
        encodeCayenneLpp([bad]);
        throw new Error(`accepted ${JSON.stringify(bad)}`);
      } catch (err) {
        expect(isMaverickError(err)).toBe(true);
      }
    }
  });
});

describe('farm sensors', () => {
  const start = Date.UTC(2026, 5, 1);
  const day = Array.from({ length: 96 }, (_, i) => start + i * 15 * 60_000);

  it('are reproducible from the seed and differ between seeds', () => {
    const a = new WeatherStation(42);
    const b = new WeatherStation(42);
    const c = new WeatherStation(43);
    const pa = day.map((t) => hex(a.sample(t).payload));
    expect(day.map((t) => hex(b.sample(t).payload))).toEqual(pa);
    expect(day.map((t) => hex(c.sample(t).payload))).not.toEqual(pa);
  });

  it('encode exactly the readings they report, within plausible ranges over a day', () => {
    const station = new WeatherStation(1);
    const probe = new SoilProbe(2);
    const temps: number[] = [];
    for (const t of day) {
      const w = station.sample(t);
      expect(readLpp(w.payload)).toEqual([
        [1, 103, w.reading.airTemperatureC],
        [2, 104, w.reading.humidityPct],
        [3, 115, w.reading.pressureHpa],
        [4, 2, w.reading.windSpeedMs],
        [5, 2, w.reading.rainMm],
        [9, 2, w.reading.batteryV],
      ]);
      expect(w.reading.humidityPct).toBeGreaterThanOrEqual(15);
      expect(w.reading.humidityPct).toBeLessThanOrEqual(100);
      expect(w.reading.pressureHpa).toBeGreaterThanOrEqual(975);
      temps.push(w.reading.airTemperatureC);
      const s = probe.sample(t, w.reading.rainMm);
      expect(readLpp(s.payload)).toEqual([
        [1, 104, s.reading.soilMoisturePct],
        [2, 103, s.reading.soilTemperatureC],
        [9, 2, s.reading.batteryV],
      ]);
      expect(s.reading.soilMoisturePct).toBeGreaterThanOrEqual(5);
      expect(s.reading.batteryV).toBeGreaterThan(2.7);
      expect(s.payload.length).toBe(11);
    }
    // A daily cycle: afternoon clearly warmer than the small hours.
    const at = (hour: number) => temps[hour * 4];
    expect(at(15)).toBeGreaterThan(at(4) + 5);
  });
});
