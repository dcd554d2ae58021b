/**
 * AU915-928 (RP002-1.0.4 §2.8) on a configurable sub-band; "AU915" is sub-band 2
 * (channels 8..15 and 65). Used by Australia, New Zealand and most of South
 * America (Brazil, Argentina, Chile, Colombia, ...).
 */
import { downlink500, lora, rate, sf12Down125, UPLINK_ONLY } from './common.js';
import type { FixedPlanSpec } from './fixed-plan.js';

/**
 * §2.8.3 Table "AU915-928 Data Rate" (DR7 LR-FHSS omitted: not LoRa) and §2.8.6
 * "Maximum payload size" with UplinkDwellTime = 0 (N; not repeater-compatible).
 */
export const AU915_DATA_RATES = [
  ...sf12Down125([51, 51, 51, 115, 242, 242], UPLINK_ONLY),
  rate(6, lora(8, 500), 242, UPLINK_ONLY),
  ...downlink500(),
];

export const AU915_SPEC: FixedPlanSpec = {
  plan: 'AU915',
  bandHz: [915_000_000, 928_000_000],
  dataRates: AU915_DATA_RATES,
  /** §2.8.2: upstream 125 kHz channel n at 915.2 + 0.2 n MHz (DR0..DR5), 500 kHz channel 64+n at 915.9 + 1.6 n MHz (DR6). */
  ch125: { baseHz: 915_200_000, stepHz: 200_000, minDr: 0, maxDr: 5 },
  ch500: { baseHz: 915_900_000, stepHz: 1_600_000, dr: 6 },
  /** §2.8.2: downstream channel n at 923.3 + 0.6 n MHz (n = 0..7). */
  down: { baseHz: 923_300_000, stepHz: 600_000 },
  /** §2.8.7 Table "AU915-928 RX1 data rate": rows uplink DR0..DR6, columns RX1DROffset 0..5. */
  rx1Table: [
    [8, 8, 8, 8, 8, 8],
    [9, 8, 8, 8, 8, 8],
    [10, 9, 8, 8, 8, 8],
    [11, 10, 9, 8, 8, 8],
    [12, 11, 10, 9, 8, 8],
    [13, 12, 11, 10, 9, 8],
    [13, 13, 12, 11, 10, 9],
  ],
  /** §2.8.7: RX2 default 923.3 MHz, DR8. */
  rx2: { frequencyHz: 923_300_000, dr: 8 },
  /** §2.8.3 Table "AU915-928 TX power table": TXPower n is MaxEIRP (30 dBm) − 2n for n = 0..14. */
  maxEirpDbm: 30,
  maxTxPowerIndex: 14,
  /** 20 dBm: conservative, well under the 30 dBm the plan allows; RP002 leaves gateway power to regulation. */
  downlinkTxPowerDbm: 20,
  /**
   * §2.8.2: devices boot with UplinkDwellTime = 1 (DR0/DR1 unusable) until a
   * TxParamSetupReq says otherwise; the plan has no dwell limit, so Maverick
   * lifts it (MaxEIRP index 13 = 30 dBm) and uses the dwell-time-0 payload table.
   */
  txParams: { uplinkDwellTime: false, downlinkDwellTime: false, maxEirpIndex: 13 },
};
