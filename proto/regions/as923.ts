/**
 * AS923 (RP002-1.0.4 §2.10) in its four frequency groups: AS923-1 (offset 0),
 * AS923-2 (−1.8 MHz), AS923-3 (−6.6 MHz) and AS923-4 (−5.9 MHz) move the two
 * default channels 923.2/923.4 MHz and RX2 923.2 MHz by AS923_FREQ_OFFSET
 * (§2.10.2). Maverick runs AS923 with the 400 ms dwell time on for uplinks and
 * downlinks — what Japan, Taiwan and others require and valid everywhere the
 * plan is used — and says so to every device in a TxParamSetupReq.
 */
import { FSK_50K, lora, rate, sf12Down125 } from './common.js';
import { dynamicPlan } from './dynamic-plan.js';
import type { PlanId, Region } from './types.js';

/** §2.10.6 "AS923 maximum payload size" tables (N; not repeater-compatible), UplinkDwellTime 0 and 1. */
export const AS923_MAX_PAYLOAD = {
  noDwellTime: [51, 51, 51, 115, 242, 242, 242, 242],
  dwellTime400ms: [0, 0, 11, 53, 125, 242, 242, 242],
} as const;

/** §2.10.3 Table "AS923 Data Rate", with the dwell-time-1 payload sizes. */
const [n0, n1, n2, n3, n4, n5, n6, n7] = AS923_MAX_PAYLOAD.dwellTime400ms;
export const AS923_DATA_RATES = [
  ...sf12Down125([n0, n1, n2, n3, n4, n5]),
  rate(6, lora(7, 250), n6),
  rate(7, FSK_50K, n7),
];

/** §2.10.2 AS923_FREQ_OFFSET per group, in Hz. */
export const AS923_FREQUENCY_OFFSET_HZ: Record<'AS923-1' | 'AS923-2' | 'AS923-3' | 'AS923-4', number> = {
  'AS923-1': 0,
  'AS923-2': -1_800_000,
  'AS923-3': -6_600_000,
  'AS923-4': -5_900_000,
};

/** Band edges of each group (RP002-1.0.4 §2.10.1 and the country table). */
const BAND_HZ: Record<keyof typeof AS923_FREQUENCY_OFFSET_HZ, readonly [number, number]> = {
  'AS923-1': [915_000_000, 928_000_000],
  'AS923-2': [920_000_000, 923_000_000],
  'AS923-3': [915_000_000, 921_000_000],
  'AS923-4': [917_000_000, 920_000_000],
};

/**
 * Maverick's six further channels, 200 kHz apart next to the default pair so one
 * concentrator radio covers all eight: below them, except in AS923-4 whose band
 * starts 0.3 MHz under the default channels (so above them).
 */
const EXTRA_STEPS: Record<keyof typeof AS923_FREQUENCY_OFFSET_HZ, readonly number[]> = {
  'AS923-1': [-5, -4, -3, -2, -1, -6],
  'AS923-2': [-5, -4, -3, -2, -1, -6],
  'AS923-3': [-5, -4, -3, -2, -1, -6],
  'AS923-4': [2, 3, 4, 5, 6, 7],
};

function as923(id: keyof typeof AS923_FREQUENCY_OFFSET_HZ & PlanId): Region {
  const offset = AS923_FREQUENCY_OFFSET_HZ[id];
  const first = 923_200_000 + offset;
  return dynamicPlan({
    id,
    bandHz: BAND_HZ[id],
    dataRates: AS923_DATA_RATES,
    /** §2.10.2: 923.2 and 923.4 MHz + AS923_FREQ_OFFSET, DR0..DR5. */
    defaultChannelsHz: [first, first + 200_000],
    extraChannelsHz: EXTRA_STEPS[id].map((step) => first + step * 200_000),
    channelDrs: { minDr: 0, maxDr: 5 },
    /**
     * §2.10.7: RX1 DR = min(5, max(MinDR, uplink DR − Effective_RX1DROffset)),
     * offsets 6 and 7 meaning −1 and −2; MinDR = 2 with DownlinkDwellTime = 1.
     */
    rx1: { effectiveOffsets: [0, 1, 2, 3, 4, 5, -1, -2], minDr: 2, maxDr: 5 },
    /** §2.10.7: RX2 default 923.2 MHz + AS923_FREQ_OFFSET, DR2. */
    rx2: { frequencyHz: first, dr: 2 },
    /** §2.10.3 Table "AS923 TX power table": MaxEIRP (16 dBm default) − 2n for n = 0..7. */
    maxEirpDbm: 16,
    maxTxPowerIndex: 7,
    downlinkTxPowerDbm: 16,
    /** Where regulation asks for LBT (Japan ARIB STD-T108): −80 dBm over 5 ms, as LoRaMac-node RegionAS923 applies it. */
    listenBeforeTalk: { thresholdDbm: -80, senseMs: 5 },
    /** Dwell time on both ways, MaxEIRP index 5 = 16 dBm (LoRaWAN 1.0.4 §5.12). */
    txParams: { uplinkDwellTime: true, downlinkDwellTime: true, maxEirpIndex: 5 },
  });
}

export const AS923_1 = as923('AS923-1');
export const AS923_2 = as923('AS923-2');
export const AS923_3 = as923('AS923-3');
export const AS923_4 = as923('AS923-4');
