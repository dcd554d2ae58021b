/**
 * Farm sensors for the simulator: a soil probe and a weather station whose
 * readings follow a day's rhythm with seeded noise (same seed, same readings),
 * encoded as Cayenne LPP. Channel map (documented for codecs and dashboards):
 *
 * | channel | soil probe                     | weather station                   |
 * |---------|--------------------------------|-----------------------------------|
 * | 1       | soil moisture % (humidity)     | air temperature °C (temperature)  |
 * | 2       | soil temperature °C            | relative humidity % (humidity)    |
 * | 3       | —                              | pressure hPa (barometer)          |
 * | 4       | —                              | wind speed m/s (analog input)     |
 * | 5       | —                              | rain mm since last report (analog)|
 * | 9       | battery V (analog input)       | battery V (analog input)          |
 */
import { createPrng, type Prng } from './device-random.js';
import { encodeCayenneLpp, type LppValue, quantize } from './payloads-lpp.js';

export { createPrng, type Prng } from './device-random.js';
export { encodeCayenneLpp, LPP_TYPE_IDS, type LppKind, type LppValue, quantize } from './payloads-lpp.js';

export type FarmSensorKind = 'soil-probe' | 'weather-station';

export interface SoilReading {
  soilMoisturePct: number;
  soilTemperatureC: number;
  batteryV: number;
}
export interface WeatherReading {
  airTemperatureC: number;
  humidityPct: number;
  pressureHpa: number;
  windSpeedMs: number;
  rainMm: number;
  batteryV: number;
}

export interface SensorSample<R> {
  reading: R;
  values: LppValue[];
  payload: Uint8Array;
}

const HOUR_MS = 3_600_000;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A day's temperature wave: coolest near 05:00, warmest near 15:00 (UTC hours of `atMs`). */
function diurnal(atMs: number, mean: number, amplitude: number): number {
  const hour = (atMs / HOUR_MS) % 24;
  return mean + amplitude * Math.sin((2 * Math.PI * (hour - 9)) / 24);
}

/** Battery: about 3.6 V, falling a little with every report. */
class Battery {
  private volts = 3.6;
  constructor(private readonly prng: Prng) {}
  read(): number {
    this.volts = clamp(this.volts - 0.0002 + this.prng.noise(0.002), 2.8, 3.7);
    return quantize('analogInput', this.volts);
  }
}

export class SoilProbe {
  private readonly prng: Prng;
  private readonly battery: Battery;
  private moisture: number;

  constructor(seed: number) {
    this.prng = createPrng(seed);
    this.battery = new Battery(this.prng);
    this.moisture = 25 + this.prng.next() * 15;
  }

  /** Samples at `atMs` (ms since the Unix epoch); `rainMm` wets the soil. */
  sample(atMs: number, rainMm = 0): SensorSample<SoilReading> {
    // Soil dries slowly (evapotranspiration peaks at midday) and takes up rain.
    const drying = 0.05 + 0.1 * Math.max(0, Math.sin((2 * Math.PI * (((atMs / HOUR_MS) % 24) - 6)) / 24));
    this.moisture = clamp(this.moisture - drying + rainMm * 0.8 + this.prng.noise(0.2), 5, 60);
    const reading: SoilReading = {
      soilMoisturePct: quantize('humidity', this.moisture),
      soilTemperatureC: quantize('temperature', diurnal(atMs - 3 * HOUR_MS, 14, 3) + this.prng.noise(0.2)),
      batteryV: this.battery.read(),
    };
    const values: LppValue[] = [
      { channel: 1, kind: 'humidity', value: reading.soilMoisturePct },
      { channel: 2, kind: 'temperature', value: reading.soilTemperatureC },
      { channel: 9, kind: 'analogInput', value: reading.batteryV },
    ];
    return { reading, values, payload: encodeCayenneLpp(values) };
  }
}

export class WeatherStation {
  private readonly prng: Prng;
  private readonly battery: Battery;
  private pressure: number;
  private raining = false;

  constructor(seed: number) {
    this.prng = createPrng(seed);
    this.battery = new Battery(this.prng);
    this.pressure = 1005 + this.prng.next() * 20;
  }

  sample(atMs: number): SensorSample<WeatherReading> {
    const p = this.prng;
    this.pressure = clamp(this.pressure + p.noise(0.3), 975, 1045);
    // Showers start more readily when pressure is low and tend to persist.
    const startChance = this.pressure < 1005 ? 0.15 : 0.03;
    this.raining = this.raining ? p.next() < 0.7 : p.next() < startChance;
    const rain = this.raining ? Math.abs(p.noise(1.5)) : 0;
    const temperature = diurnal(atMs, 17, 6) - (this.raining ? 2 : 0) + p.noise(0.4);
    const reading: WeatherReading = {
      airTemperatureC: quantize('temperature', temperature),
      humidityPct: quantize(
        'humidity',
        clamp(95 - 2.2 * (temperature - 8) + (this.raining ? 15 : 0) + p.noise(3), 15, 100),
      ),
      pressureHpa: quantize('barometer', this.pressure),
      windSpeedMs: quantize(
        'analogInput',
        clamp(3 + p.noise(1.5) + (p.next() < 0.1 ? 6 * p.next() : 0), 0, 40),
      ),
      rainMm: quantize('analogInput', rain),
      batteryV: this.battery.read(),
    };
    const values: LppValue[] = [
      { channel: 1, kind: 'temperature', value: reading.airTemperatureC },
      { channel: 2, kind: 'humidity', value: reading.humidityPct },
      { channel: 3, kind: 'barometer', value: reading.pressureHpa },
      { channel: 4, kind: 'analogInput', value: reading.windSpeedMs },
      { channel: 5, kind: 'analogInput', value: reading.rainMm },
      { channel: 9, kind: 'analogInput', value: reading.batteryV },
    ];
    return { reading, values, payload: encodeCayenneLpp(values) };
  }
}
