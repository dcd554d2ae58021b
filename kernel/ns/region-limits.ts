/**
 * Limits the ADR and downlink code reads off a region table: the data-rate
 * range ADR may move a device in, and how far TX power can be reduced.
 */
import {
  narrowLoraUplinkDrs,
  type Region,
  type TxParams,
  type UplinkChannel,
} from '../../proto/regions/index.js';

export interface AdrLimits {
  minDr: number;
  /** Highest 125 kHz LoRa data rate: ADR stays off the 250/500 kHz and FSK rates, like ChirpStack's default. */
  maxDr: number;
  /** Highest TX power index (largest power reduction) the region defines. */
  maxTxPowerIndex: number;
}

const cache = new WeakMap<Region, AdrLimits>();

export function adrLimits(region: Region): AdrLimits {
  const known = cache.get(region);
  if (known) return known;
  const drs = narrowLoraUplinkDrs(region);
  let maxTxPowerIndex = 0;
  for (let i = 1; i < 16; i++) {
    if (!isDefined(() => region.txPowerDbm(i))) break;
    maxTxPowerIndex = i;
  }
  const limits: AdrLimits = {
    minDr: drs.length > 0 ? Math.min(...drs) : 0,
    maxDr: drs.length > 0 ? Math.max(...drs) : 0,
    maxTxPowerIndex,
  };
  cache.set(region, limits);
  return limits;
}

function isDefined(read: () => number | undefined): boolean {
  try {
    const value = read();
    return typeof value === 'number' && Number.isFinite(value);
  } catch {
    return false;
  }
}

/** What the network wants a device of the region to have beyond its receive windows. */
export interface RegionWants {
  /** Uplink channels beyond the plan's defaults (dynamic plans), in channel order. */
  extraChannels?: readonly { chIndex: number; channel: UplinkChannel }[];
  /** The TxParamSetupReq settings (dwell time, MaxEIRP) of plans that have one. */
  txParams?: TxParams;
}

/** Per region: a region's plan never changes, and every uplink's answer asks. */
const wantsByRegion = new WeakMap<Region, RegionWants>();

/**
 * Dynamic-plan devices start with the default channels and learn the rest from
 * the CFList or NewChannelReq (RP002-1.0.4 §2.4.2, §2.10.2, ...); fixed-plan
 * channels are only switched on and off. The answer is shared: read it, never change it.
 */
export function regionWants(region: Region): RegionWants {
  let wants = wantsByRegion.get(region);
  if (wants) return wants;
  wants = {};
  if (region.txParams) wants.txParams = region.txParams;
  if (region.channelPlan === 'dynamic') {
    wants.extraChannels = region.uplinkChannels
      .map((channel, chIndex) => ({ chIndex, channel }))
      .filter(({ chIndex }) => chIndex >= region.defaultChannels.length);
  }
  wantsByRegion.set(region, wants);
  return wants;
}
