/**
 * The farm's sensor profiles, each a seeded source of Cayenne LPP payloads:
 * the soil probe and weather station of payloads.ts, and an air sensor
 * (temperature, humidity, battery) for sheds and canopies. Channel map of the
 * air sensor: 1 air temperature °C, 2 relative humidity %, 9 battery V.
 */
import {
  createPrng,
  encodeCayenneLpp,
  type LppValue,
  type Prng,
  quantize,
  SoilProbe,
  WeatherStation,
} from './payloads.js';

export type FarmSensorProfile = 'soil-probe' | 'air-sensor' | 'weather-station';

export const FARM_SENSOR_PROFILES: readonly FarmSensorProfile[] = [
  'soil-probe',
  'air-sensor',
  'weather-station',
];

/** LoRaWAN FPort each profile reports on (one port per payload layout). */
export const PROFILE_FPORT: Readonly<Record<FarmSensorProfile, number>> = {
  'soil-probe': 2,
  'air-sensor': 3,
  'weather-station': 4,
};

export interface FarmSensor {
  readonly profile: FarmSensorProfile;
  /** The payload for a reading taken at simulated Unix time `atMs`. */
  sample(atMs: number): { payload: Uint8Array; values: LppValue[] };
}

const HOUR_MS = 3_600_000;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class AirSensor {
  private readonly prng: Prng;
  private volts = 3.55;
  private readonly offsetC: number;

  constructor(seed: number) {
    this.prng = createPrng(seed);
    this.offsetC = this.prng.noise(1.5);
  }

  sample(atMs: number): { payload: Uint8Array; values: LppValue[] } {
    const hour = (atMs / HOUR_MS) % 24;
    // Warmest mid-afternoon, coolest before dawn; humidity moves the other way.
    const temperature =
      16 + this.offsetC + 7 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + this.prng.noise(0.3);
    const humidity = clamp(90 - 2.5 * (temperature - 8) + this.prng.noise(2.5), 20, 100);
    this.volts = clamp(this.volts - 0.0002 + this.prng.noise(0.002), 2.8, 3.7);
    const values: LppValue[] = [
      { channel: 1, kind: 'temperature', value: quantize('temperature', temperature) },
      { channel: 2, kind: 'humidity', value: quantize('humidity', humidity) },
      { channel: 9, kind: 'analogInput', value: quantize('analogInput', this.volts) },
    ];
    return { payload: encodeCayenneLpp(values), values };
  }
}

/** A sensor of `profile`, seeded so the same seed gives the same readings. */
export function createFarmSensor(profile: FarmSensorProfile, seed: number): FarmSensor {
  switch (profile) {
    case 'soil-probe': {
      const probe = new SoilProbe(seed);
      return { profile, sample: (atMs) => probe.sample(atMs) };
    }
    case 'air-sensor': {
      const air = new AirSensor(seed);
      return { profile, sample: (atMs) => air.sample(atMs) };
    }
    case 'weather-station': {
      const station = new WeatherStation(seed);
      return { profile, sample: (atMs) => station.sample(atMs) };
    }
  }
}
