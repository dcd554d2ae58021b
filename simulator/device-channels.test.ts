/**
 * The device side of channel masks (RP002-1.0.4 §2.5.5, §2.8.5 ChMaskCntl; §2.5.4,
 * §2.8.4 CFList type 1): for every sub-band of US915 and AU915, what the network
 * sends leaves a device that starts with all 72 channels on exactly its sub-band.
 */
import { describe, expect, it } from 'vitest';
import { getRegion, REGION_IDS } from '../proto/regions/index.js';
import { applyCfList, applyChannelMasks, type ChannelTable } from './device-channels.js';

const fixed = REGION_IDS.map(getRegion).filter((r) => r.channelPlan === 'fixed');

function factory(region: ReturnType<typeof getRegion>): { channels: ChannelTable; all: Set<number> } {
  const channels: ChannelTable = new Map(region.defaultChannels.map((c, i) => [i, { ...c }]));
  return { channels, all: new Set(channels.keys()) };
}

const frequencies = (channels: ChannelTable, enabled: Iterable<number>) =>
  [...enabled].map((n) => channels.get(n)?.frequencyHz).sort();

describe.each(fixed.map((r) => [r.id, r] as const))('%s', (_id, region) => {
  const wanted = region.uplinkChannels.map((c) => c.frequencyHz).sort();

  it('the LinkADRReq mask blocks keep a 72-channel device on the sub-band', () => {
    const { channels, all } = factory(region);
    expect(all.size).toBe(72);
    const enabled = applyChannelMasks(region, channels, all, region.linkAdrChannelMask());
    expect(enabled && frequencies(channels, enabled)).toEqual(wanted);
  });

  it('the join-accept CFList (type 1) does the same', () => {
    const { channels, all } = factory(region);
    expect(applyCfList(region, channels, all, region.joinAcceptCfList() ?? new Uint8Array(16))).toBe(true);
    expect(frequencies(channels, all)).toEqual(wanted);
  });
});

it('covers both fixed plans on all eight sub-bands', () => {
  expect(fixed.map((r) => r.id)).toHaveLength(2 + 16);
});
