/**
 * The device's channel plan: which uplink channels exist and which are
 * enabled, and how LinkADRReq's ChMask / ChMaskCntl change them
 * (RP002-1.0.4 §2.4.5 for the dynamic plans, §2.5.5 / §2.8.5 for US915 / AU915).
 */
import type { Region } from '../proto/regions/index.js';

export interface DeviceChannel {
  frequencyHz: number;
  minDr: number;
  maxDr: number;
  /** Set by DlChannelReq (dynamic plans): RX1 frequency for uplinks on this channel. */
  downlinkFrequencyHz?: number;
}

/** Channel number -> channel. Dynamic plans number 0..15; fixed plans 0..71. */
export type ChannelTable = Map<number, DeviceChannel>;

/**
 * Applies one block of LinkADRReq channel-mask operations to `enabled`.
 * Returns the new enabled set, or undefined when a mask is not acceptable
 * (RFU ChMaskCntl, a bit for a channel that does not exist, or nothing left enabled).
 */
export function applyChannelMasks(
  region: Region,
  channels: ChannelTable,
  enabled: ReadonlySet<number>,
  masks: readonly { chMask: number; chMaskCntl: number }[],
): Set<number> | undefined {
  const next = new Set(enabled);
  const setBlock = (first: number, count: number, mask: number): boolean => {
    for (let i = 0; i < count; i++) {
      const on = ((mask >>> i) & 1) === 1;
      if (on && !channels.has(first + i)) return false;
      if (on) next.add(first + i);
      else next.delete(first + i);
    }
    return true;
  };
  for (const { chMask, chMaskCntl } of masks) {
    if (region.channelPlan === 'dynamic') {
      if (chMaskCntl === 0) {
        if (!setBlock(0, 16, chMask)) return undefined;
      } else if (chMaskCntl === 6) {
        for (const ch of channels.keys()) next.add(ch);
      } else return undefined;
    } else {
      if (chMaskCntl <= 3) {
        if (!setBlock(chMaskCntl * 16, 16, chMask)) return undefined;
      } else if (chMaskCntl === 4) {
        if (!setBlock(64, 8, chMask)) return undefined;
      } else if (chMaskCntl === 6 || chMaskCntl === 7) {
        for (let ch = 0; ch < 64; ch++) {
          if (chMaskCntl === 6) next.add(ch);
          else next.delete(ch);
        }
        if (!setBlock(64, 8, chMask)) return undefined;
      } else return undefined; // ChMaskCntl 5 (sub-band bank mask) is not implemented by the simulator.
    }
  }
  return next.size > 0 ? next : undefined;
}

/**
 * Applies a join-accept CFList (RP002-1.0.4 §2.4.4 type 0: five frequencies
 * for the channels after the defaults; §2.5.4 type 1: ChMask0..ChMask4).
 * Returns false when the CFList type does not belong to the region's kind of
 * plan (the device then ignores it).
 */
export function applyCfList(
  region: Region,
  channels: ChannelTable,
  enabled: Set<number>,
  cfList: Uint8Array,
): boolean {
  const type = cfList[15];
  if (region.channelPlan === 'dynamic' && type === 0) {
    const first = region.defaultChannels.length;
    // CFList channels carry the default channels' DR range (RP002-1.0.4 §2.4.4, §2.10.4, ...).
    const drs = region.defaultChannels[0] ?? { minDr: 0, maxDr: 5 };
    for (let i = 0; i < 5; i++) {
      const hz = (cfList[i * 3] | (cfList[i * 3 + 1] << 8) | (cfList[i * 3 + 2] << 16)) * 100;
      if (hz === 0) continue;
      channels.set(first + i, { frequencyHz: hz, minDr: drs.minDr, maxDr: drs.maxDr });
      enabled.add(first + i);
    }
    return true;
  }
  if (region.channelPlan === 'fixed' && type === 1) {
    enabled.clear();
    for (let block = 0; block < 5; block++) {
      const mask = cfList[block * 2] | (cfList[block * 2 + 1] << 8);
      for (let bit = 0; bit < 16; bit++) {
        const ch = block * 16 + bit;
        if ((mask >>> bit) & 1 && channels.has(ch)) enabled.add(ch);
      }
    }
    return true;
  }
  return false;
}
