/** Simulated devices from the hex keys the security suites register (one place for the conversion). */
import { SimulatedDevice } from '../../simulator/device.js';

export interface AbpKeys {
  devEui: string;
  devAddr: string;
  nwkSKey: string;
  appSKey: string;
}

export interface OtaaKeys {
  devEui: string;
  joinEui: string;
  appKey: string;
}

export function abpDevice(keys: AbpKeys, seed?: number): SimulatedDevice {
  return new SimulatedDevice({
    identity: {
      activation: 'abp',
      devEui: keys.devEui,
      devAddr: keys.devAddr,
      nwkSKey: Buffer.from(keys.nwkSKey, 'hex'),
      appSKey: Buffer.from(keys.appSKey, 'hex'),
    },
    region: 'EU868',
    ...(seed === undefined ? {} : { seed }),
  });
}

export function otaaDevice(keys: OtaaKeys, seed?: number): SimulatedDevice {
  return new SimulatedDevice({
    identity: {
      activation: 'otaa',
      devEui: keys.devEui,
      joinEui: keys.joinEui,
      appKey: Buffer.from(keys.appKey, 'hex'),
    },
    region: 'EU868',
    ...(seed === undefined ? {} : { seed }),
  });
}
