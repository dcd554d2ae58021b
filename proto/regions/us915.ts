/**
 * US902-928 (RP002-1.0.4 §2.5) on a configurable sub-band; "US915" is sub-band 2
 * (channels 8..15 and 65), the common 8-channel gateway plan.
 */
import { downlink500, lora, rate, UPLINK_ONLY } from './common.js';
import type { FixedPlanSpec } from './fixed-plan.js';

/**
 * §2.5.3 Table "US902-928 Data Rate" (DR5/DR6 LR-FHSS omitted: not LoRa) and
 * §2.5.6 "Maximum payload size" (N; not repeater-compatible).
 */
export const US915_DATA_RATES = [
  rate(0, lora(10, 125), 11, UPLINK_ONLY),
  rate(1, lora(9, 125), 53, UPLINK_ONLY),
  rate(2, lora(8, 125), 125, UPLINK_ONLY),
  rate(3, lora(7, 125), 242, UPLINK_ONLY),
  rate(4, lora(8, 500), 242, UPLINK_ONLY),
  ...downlink500(),
];

export const US915_SPEC: FixedPlanSpec = {
  plan: 'US915',
  bandHz: [902_000_000, 928_000_000],
  dataRates: US915_DATA_RATES,
  /** §2.5.2: upstream 125 kHz channel n at 902.3 + 0.2 n MHz (DR0..DR3), 500 kHz channel 64+n at 903.0 + 1.6 n MHz (DR4). */
  ch125: { baseHz: 902_300_000, stepHz: 200_000, minDr: 0, maxDr: 3 },
  ch500: { baseHz: 903_000_000, stepHz: 1_600_000, dr: 4 },
  /** §2.5.2: downstream channel n at 923.3 + 0.6 n MHz (n = 0..7). */
  down: { baseHz: 923_300_000, stepHz: 600_000 },
  /** §2.5.7 Table "US902-928 RX1 data rate": rows uplink DR0..DR4, columns RX1DROffset 0..3. */
  rx1Table: [
    [10, 9, 8, 8],
    [11, 10, 9, 8],
    [12, 11, 10, 9],
    [13, 12, 11, 10],
    [13, 13, 12, 11],
  ],
  /** §2.5.7: RX2 default 923.3 MHz, DR8. */
  rx2: { frequencyHz: 923_300_000, dr: 8 },
  /** §2.5.3 Table "US902-928 TX power table": TXPower n is 30 dBm − 2n for n = 0..14. */
  maxEirpDbm: 30,
  maxTxPowerIndex: 14,
  /**
   * 20 dBm: a conservative default well under the FCC 47 CFR 15.247 limit
   * (30 dBm conducted); RP002 leaves gateway power to regulation.
   */
  downlinkTxPowerDbm: 20,
};
