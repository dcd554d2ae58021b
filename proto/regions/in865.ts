/**
 * IN865-867 (RP002-1.0.4 §2.12): three default channels and Maverick's five
 * CFList channels 866.185..866.785 and 865.785 MHz; no duty-cycle limit in the plan.
 */
import { FSK_50K, rate, sf12Down125 } from './common.js';
import { dynamicPlan } from './dynamic-plan.js';

/** §2.12.3 Table "IN865-867 Data Rate" (DR6 RFU) and §2.12.6 "Maximum payload size" (N; not repeater-compatible). */
export const IN865_DATA_RATES = [...sf12Down125([51, 51, 51, 115, 242, 242]), rate(7, FSK_50K, 242)];

export const IN865 = dynamicPlan({
  id: 'IN865',
  bandHz: [865_000_000, 867_000_000],
  dataRates: IN865_DATA_RATES,
  /** §2.12.2 default channels 865.0625, 865.4025, 865.985 MHz, DR0..DR5. */
  defaultChannelsHz: [865_062_500, 865_402_500, 865_985_000],
  // Kept ≥ 62.5 kHz inside 867 MHz, in two runs a concentrator's two radios can cover.
  extraChannelsHz: [866_185_000, 866_385_000, 866_585_000, 866_785_000, 865_785_000],
  channelDrs: { minDr: 0, maxDr: 5 },
  /** §2.12.7: RX1 DR = min(5, max(0, uplink DR − Effective_RX1DROffset)), offsets 6/7 meaning −1/−2. */
  rx1: { effectiveOffsets: [0, 1, 2, 3, 4, 5, -1, -2], minDr: 0, maxDr: 5 },
  /** §2.12.7: RX2 default 866.550 MHz, DR2. */
  rx2: { frequencyHz: 866_550_000, dr: 2 },
  /** §2.12.3 Table "IN865-867 TX power table": MaxEIRP (30 dBm) − 2n for n = 0..10. */
  maxEirpDbm: 30,
  maxTxPowerIndex: 10,
  downlinkTxPowerDbm: 20,
});
