/**
 * KR920-923 (RP002-1.0.4 §2.11): three default channels and Maverick's five
 * CFList channels; Korea asks for listen-before-talk instead of a duty cycle.
 */
import { sf12Down125 } from './common.js';
import { dynamicPlan } from './dynamic-plan.js';

/** §2.11.3 Table "KR920-923 Data Rate" and §2.11.6 "Maximum payload size" (N; not repeater-compatible). */
export const KR920_DATA_RATES = sf12Down125([51, 51, 51, 115, 242, 242]);

export const KR920 = dynamicPlan({
  id: 'KR920',
  bandHz: [920_900_000, 923_300_000],
  dataRates: KR920_DATA_RATES,
  /** §2.11.2 default channels 922.1, 922.3, 922.5 MHz, DR0..DR5. */
  defaultChannelsHz: [922_100_000, 922_300_000, 922_500_000],
  // Only 922.1..923.1 MHz fit above 922 MHz inside the band; the two below (away from RX2 at 921.9)
  // are ones where devices limit themselves to 10 dBm EIRP (§2.11.3).
  extraChannelsHz: [922_700_000, 922_900_000, 923_100_000, 921_500_000, 921_700_000],
  channelDrs: { minDr: 0, maxDr: 5 },
  /** §2.11.7: RX1 DR = max(0, uplink DR − RX1DROffset), offsets 0..5. */
  rx1: { effectiveOffsets: [0, 1, 2, 3, 4, 5], minDr: 0, maxDr: 5 },
  /** §2.11.7: RX2 default 921.9 MHz, DR0. */
  rx2: { frequencyHz: 921_900_000, dr: 0 },
  /** §2.11.3 Table "KR920-923 TX power table": MaxEIRP (14 dBm default) − 2n for n = 0..7. */
  maxEirpDbm: 14,
  maxTxPowerIndex: 7,
  downlinkTxPowerDbm: 14,
  /** §2.11.1 listen-before-talk: −65 dBm threshold, sensed for 6 ms (LoRaMac-node RegionKR920's values). */
  listenBeforeTalk: { thresholdDbm: -65, senseMs: 6 },
});
