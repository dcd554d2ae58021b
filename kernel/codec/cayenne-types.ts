/**
 * The Cayenne LPP data types: the IPSO Smart Objects of the myDevices Cayenne
 * LPP spec (types 0-3, 101-104, 113, 115, 134, 136; type = IPSO object id - 3200)
 * plus the common extended ones of the ElectronicCats CayenneLPP library
 * (generic sensor, voltage, current, frequency, percentage, altitude,
 * concentration, power, distance, energy, direction, unix time, colour, switch).
 *
 * Keys follow ChirpStack v4's decoder (chirpstack/src/codec/cayenne_lpp.rs):
 * `{ temperatureSensor: { "3": 27.2 }, gpsLocation: { "1": { latitude, longitude, altitude } } }`.
 * Extended types, which ChirpStack does not decode, use the same camelCase style.
 */

/** One numeric field inside a value: size in bytes, signedness and the divisor of its unit. */
export interface LppField {
  /** Property name for composite values (x/y/z, latitude…); absent for scalars. */
  name?: string;
  size: 1 | 2 | 3 | 4;
  signed: boolean;
  divisor: number;
}

export interface LppType {
  id: number;
  key: string;
  fields: readonly LppField[];
}

const scalar = (id: number, key: string, size: LppField['size'], signed: boolean, divisor = 1): LppType => ({
  id,
  key,
  fields: [{ size, signed, divisor }],
});

const xyz = (id: number, key: string, divisor: number): LppType => ({
  id,
  key,
  fields: ['x', 'y', 'z'].map((name) => ({ name, size: 2, signed: true, divisor }) as const),
});

/** In encoding order (the order ChirpStack's encoder writes the base types, then the extended ones). */
export const LPP_TYPES: readonly LppType[] = [
  scalar(0, 'digitalInput', 1, false),
  scalar(1, 'digitalOutput', 1, false),
  scalar(2, 'analogInput', 2, true, 100),
  scalar(3, 'analogOutput', 2, true, 100),
  scalar(101, 'illuminanceSensor', 2, false),
  scalar(102, 'presenceSensor', 1, false),
  scalar(103, 'temperatureSensor', 2, true, 10),
  scalar(104, 'humiditySensor', 1, false, 2),
  xyz(113, 'accelerometer', 1000),
  scalar(115, 'barometer', 2, false, 10),
  xyz(134, 'gyrometer', 100),
  {
    id: 136,
    key: 'gpsLocation',
    fields: [
      { name: 'latitude', size: 3, signed: true, divisor: 10000 },
      { name: 'longitude', size: 3, signed: true, divisor: 10000 },
      { name: 'altitude', size: 3, signed: true, divisor: 100 },
    ],
  },
  // Extended types (ElectronicCats CayenneLPP, src/CayenneLPP.h).
  scalar(100, 'genericSensor', 4, false),
  scalar(116, 'voltage', 2, false, 100),
  scalar(117, 'current', 2, false, 1000),
  scalar(118, 'frequency', 4, false),
  scalar(120, 'percentage', 1, false),
  scalar(121, 'altitude', 2, true),
  scalar(125, 'concentration', 2, false),
  scalar(128, 'power', 2, false),
  scalar(130, 'distance', 4, false, 1000),
  scalar(131, 'energy', 4, false, 1000),
  scalar(132, 'direction', 2, false),
  scalar(133, 'unixTime', 4, false),
  {
    id: 135,
    key: 'colour',
    fields: ['r', 'g', 'b'].map((name) => ({ name, size: 1, signed: false, divisor: 1 }) as const),
  },
  scalar(142, 'switch', 1, false),
];

export const LPP_BY_ID: ReadonlyMap<number, LppType> = new Map(LPP_TYPES.map((t) => [t.id, t]));
export const LPP_BY_KEY: ReadonlyMap<string, LppType> = new Map(LPP_TYPES.map((t) => [t.key, t]));

export function lppSize(type: LppType): number {
  return type.fields.reduce((n, f) => n + f.size, 0);
}

/** Inclusive raw integer range of a field. */
export function rawRange(field: LppField): [number, number] {
  const bits = field.size * 8;
  return field.signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}
