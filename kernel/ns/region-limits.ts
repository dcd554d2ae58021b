/**
 * Limits the ADR and downlink code reads off a region table: the data-rate
 * range ADR may move a device in, and how far TX power can be reduced.
 */
import type { Region } from '../../proto/regions/index.js';

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
  const loraBw125 = region.dataRates.filter(
    (d) => d.uplink && d.dataRate.modulation === 'LORA' && d.dataRate.bandwidthKHz === 125,
  );
  const drs = loraBw125.map((d) => d.dr);
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

/**
 * Extra uplink channels (index >= 3) the network wants devices to know. EU868
 * devices start with the three default channels and learn the rest from the
 * CFList or NewChannelReq (RP002 §2.4.2); US915 channels are fixed.
 */
export function desiredExtraChannels(region: Region): Record<string, number> {
  const out: Record<string, number> = {};
  if (region.id !== 'EU868') return out;
  region.uplinkChannels.forEach((channel, index) => {
    if (index >= 3) out[String(index)] = channel.frequencyHz;
  });
  return out;
}
