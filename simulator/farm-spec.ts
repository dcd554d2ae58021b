/**
 * Who is in the field: the farm's devices as plain data (identity, keys,
 * sensor profile, radio paths), generated from a seed so the same seed gives
 * the same farm. The same records register the devices with a gateway.
 */
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { createPrng, type Prng } from './device-random.js';
import { FARM_SENSOR_PROFILES, type FarmSensorProfile } from './farm-sensors.js';

interface SpecBase {
  name: string;
  /** 16 lower-case hex characters. */
  devEui: string;
  profile: FarmSensorProfile;
  /** Names of the radio paths that hear this device. */
  paths: string[];
}

export type FarmDeviceSpec =
  | (SpecBase & { activation: 'otaa'; joinEui: string; appKey: string })
  | (SpecBase & { activation: 'abp'; devAddr: string; nwkSKey: string; appSKey: string });

export interface GenerateFarmOptions {
  seed: number;
  count: number;
  /** Share of OTAA devices, 0..1 (default 0.8); the rest are ABP. */
  otaaRatio?: number;
  /** Radio paths of device `index` (default: every device on every path given in `pathNames`). */
  pathsFor?: (index: number) => string[];
  pathNames?: string[];
  /** JoinEUI of the OTAA devices (default 70b3d57ed0000000). */
  joinEui?: string;
  /** DevEUI prefix, 8 hex characters (default 70b3d5ff). */
  devEuiPrefix?: string;
}

const HEX_RE = /^[0-9a-f]*$/;

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !HEX_RE.test(hex.toLowerCase())) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `not an even-length hex string: ${JSON.stringify(hex)}`,
      {
        hint: 'give keys and EUIs as hex, e.g. 2b7e151628aed2a6abf7158809cf4f3c',
      },
    );
  }
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

function randomHex(prng: Prng, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += prng.int(0, 255).toString(16).padStart(2, '0');
  return s;
}

/** The farm's mix: one weather station per farm, then soil probes and air sensors in turn. */
function profileFor(index: number): FarmSensorProfile {
  if (index === 0) return 'weather-station';
  return FARM_SENSOR_PROFILES[index % 2 === 1 ? 0 : 1] as FarmSensorProfile;
}

export function generateFarmDevices(options: GenerateFarmOptions): FarmDeviceSpec[] {
  if (!Number.isInteger(options.count) || options.count < 0 || options.count > 0xffff) {
    throw new MaverickError(ErrorCode.ConfigInvalid, `device count must be 0..65535, got ${options.count}`, {
      context: { field: 'count' },
    });
  }
  const otaaRatio = options.otaaRatio ?? 0.8;
  const prefix = (options.devEuiPrefix ?? '70b3d5ff').toLowerCase();
  if (!/^[0-9a-f]{8}$/.test(prefix)) {
    throw new MaverickError(ErrorCode.ConfigInvalid, `devEuiPrefix must be 8 hex characters, got ${prefix}`, {
      context: { field: 'devEuiPrefix' },
    });
  }
  const prng = createPrng(options.seed);
  const otaaCount = Math.round(options.count * otaaRatio);
  const specs: FarmDeviceSpec[] = [];
  for (let i = 0; i < options.count; i++) {
    const devEui = `${prefix}${(i + 1).toString(16).padStart(8, '0')}`;
    const profile = profileFor(i);
    const base = {
      name: `${profile}-${i + 1}`,
      devEui,
      profile,
      paths: options.pathsFor?.(i) ?? [...(options.pathNames ?? [])],
    };
    if (i < otaaCount) {
      specs.push({
        ...base,
        activation: 'otaa',
        joinEui: options.joinEui ?? '70b3d57ed0000000',
        appKey: randomHex(prng, 16),
      });
    } else {
      // DevAddr with NwkID 0 (NetID 000000, LoRaWAN Backend Interfaces §6.1); the low bits from the index.
      const devAddr = (0x01000000 + i + 1).toString(16).padStart(8, '0');
      specs.push({
        ...base,
        activation: 'abp',
        devAddr,
        nwkSKey: randomHex(prng, 16),
        appSKey: randomHex(prng, 16),
      });
    }
  }
  return specs;
}
