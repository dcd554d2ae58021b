/**
 * The ingest bench's field: an ABP fleet with Cayenne LPP payloads as
 * pre-built frames and their reception metadata (the radio is the network
 * server's FakeRadio test helper).
 */
import { encodeCayenneLpp } from '../kernel/codec/index.js';
import { addDevice } from '../kernel/ns/registry.js';
import type { NetworkRepository } from '../kernel/ns/repository.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import type { RxMetadata } from '../proto/radio.js';

export const rx: RxMetadata = {
  gatewayEui: 'aa555a0000000001',
  tmst: 1_000_000,
  frequencyHz: 868_100_000,
  channel: 0,
  rfChain: 0,
  dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
  codingRate: '4/5',
  rssi: -60,
  snr: 9,
  backend: 'semtech-udp',
};

export interface FleetDevice {
  devEui: string;
  devAddr: string;
  nwkSKey: string;
  appSKey: string;
}

export function fleetDevice(i: number): FleetDevice {
  const hex = i.toString(16).padStart(4, '0');
  return {
    devEui: `ee00000000${hex}`.padStart(16, '0'),
    devAddr: `2602${hex}`,
    nwkSKey: hex.repeat(8),
    appSKey: hex.padStart(32, 'b'),
  };
}

/** Frames interleaved across devices, each device counting up from 0. */
export function buildFrames(devices: FleetDevice[], framesPerDevice: number): Uint8Array[] {
  // A soil probe: temperature, humidity, analog input, GPS (Cayenne LPP, 22 bytes).
  const payload = encodeCayenneLpp({
    temperatureSensor: { '1': 21.5 },
    humiditySensor: { '2': 48 },
    analogInput: { '3': 3.3 },
    gpsLocation: { '4': { latitude: 52.3702, longitude: 4.8952, altitude: 2 } },
  });
  const testDevices = devices.map((d) => TestDevice.abp(d.devEui, d.devAddr, d.nwkSKey, d.appSKey));
  const frames: Uint8Array[] = [];
  for (let n = 0; n < framesPerDevice; n++)
    for (const d of testDevices) frames.push(d.uplink({ fPort: 2, payload }));
  return frames;
}

/**
 * Registers the fleet as ABP devices with the Cayenne codec, each session
 * already holding the extra channels EU868 wants, so the server queues no
 * NewChannelReq downlinks.
 */
export async function registerFleet(repository: NetworkRepository, devices: FleetDevice[]): Promise<void> {
  const extraChannels = {
    '3': 867_100_000,
    '4': 867_300_000,
    '5': 867_500_000,
    '6': 867_700_000,
    '7': 867_900_000,
  };
  for (const d of devices) {
    await addDevice(repository, {
      devEui: d.devEui,
      name: d.devEui,
      applicationId: 'bench',
      codec: { kind: 'cayenne-lpp' },
      activation: { mode: 'abp', devAddr: d.devAddr, nwkSKey: d.nwkSKey, appSKey: d.appSKey },
    });
    const session = await repository.getSession(d.devEui);
    if (session) await repository.putSession({ ...session, extraChannels });
  }
}
