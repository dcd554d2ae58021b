/**
 * Region tables (LoRaWAN Regional Parameters RP002-1.0.4) and time on air.
 * Adding a plan: a file in this folder, an entry in REGIONS_BY_PLAN (and
 * PLAN_IDS in types.ts), its countries in countries.ts, and a board profile.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { AS923_1, AS923_2, AS923_3, AS923_4 } from './as923.js';
import { AU915_SPEC } from './au915.js';
import { EU868 } from './eu868.js';
import { fixedPlan } from './fixed-plan.js';
import { IN865 } from './in865.js';
import { KR920 } from './kr920.js';
import { REGION_IDS, type Region, type RegionId, SUB_BAND_PLANS, SUB_BANDS } from './types.js';
import { US915_SPEC } from './us915.js';

export { type TimeOnAirOptions, timeOnAirMs } from './airtime.js';
export { narrowLoraUplinkDrs, sameDataRate } from './common.js';
export { type CountryPlans, knownCountries, plansForCountry } from './countries.js';
export * from './types.js';
export { AS923_1, AS923_2, AS923_3, AS923_4, EU868, IN865, KR920 };

/** Sub-band 2 (channels 8..15 + 65) is what "US915"/"AU915" mean without a sub-band. */
const DEFAULT_SUB_BAND = 2;
export const US915 = fixedPlan(US915_SPEC, DEFAULT_SUB_BAND, 'US915');
export const AU915 = fixedPlan(AU915_SPEC, DEFAULT_SUB_BAND, 'AU915');

const REGIONS = new Map<RegionId, Region>([
  ['EU868', EU868],
  ['US915', US915],
  ['AU915', AU915],
  ['AS923-1', AS923_1],
  ['AS923-2', AS923_2],
  ['AS923-3', AS923_3],
  ['AS923-4', AS923_4],
  ['IN865', IN865],
  ['KR920', KR920],
]);
for (const [plan, spec] of [
  ['US915', US915_SPEC],
  ['AU915', AU915_SPEC],
] as const) {
  for (const n of SUB_BANDS) REGIONS.set(`${plan}-SB${n}`, fixedPlan(spec, n, `${plan}-SB${n}`));
}

/** The canonical id for a region name in any case ("au915-sb3" -> "AU915-SB3"), or undefined. */
export function regionIdOf(name: string): RegionId | undefined {
  const upper = typeof name === 'string' ? name.trim().toUpperCase() : '';
  return REGION_IDS.find((id) => id === upper);
}

/** Says which ids exist, for error hints. */
export function regionIdsHint(): string {
  const plans = [...REGIONS.keys()].filter((id) => !id.includes('-SB'));
  return `use one of ${plans.join(', ')} (any case); ${SUB_BAND_PLANS.join('/')} take a sub-band as e.g. AU915-SB1..AU915-SB8 (plain = SB2)`;
}

/** Returns the region table for a name in any case; throws MaverickError(LorawanRegion) naming the allowed ids. */
export function getRegion(name: string): Region {
  const id = regionIdOf(name);
  const region = id ? REGIONS.get(id) : undefined;
  if (!region) {
    throw new MaverickError(ErrorCode.LorawanRegion, `unknown region ${JSON.stringify(name)}`, {
      hint: regionIdsHint(),
    });
  }
  return region;
}

/** One region per plan (sub-band 2 for the 64-channel plans). */
export function planRegions(): Region[] {
  return [...REGIONS.values()].filter((r) => r.id === r.plan);
}
