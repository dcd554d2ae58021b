/** Region tables (LoRaWAN Regional Parameters RP002-1.0.3) and time on air. */
import { ErrorCode, MaverickError } from '../errors.js';
import { EU868 } from './eu868.js';
import { REGION_IDS, type Region } from './types.js';
import { US915 } from './us915.js';

export { type TimeOnAirOptions, timeOnAirMs } from './airtime.js';
export { sameDataRate } from './common.js';
export { EU868 } from './eu868.js';
export * from './types.js';
export { US915, us915UplinkChannel } from './us915.js';

const REGIONS: Record<string, Region> = { EU868, US915 };

/** Returns the region table; throws MaverickError(LorawanRegion) naming the allowed ids. */
export function getRegion(id: string): Region {
  const region = Object.hasOwn(REGIONS, id) ? REGIONS[id] : undefined;
  if (!region) {
    throw new MaverickError(ErrorCode.LorawanRegion, `unknown region ${JSON.stringify(id)}`, {
      hint: `use one of ${REGION_IDS.join(', ')}`,
    });
  }
  return region;
}
