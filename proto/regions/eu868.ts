/**
 * EU863-870 (RP002-1.0.4 §2.4). Channel plan: the three default join channels
 * 868.1/868.3/868.5 MHz (§2.4.2) plus the five 867.1..867.9 MHz channels
 * Maverick hands out in the join-accept CFList (§2.4.4) — the common
 * 8-channel gateway plan.
 */
import { FSK_50K, lora, rate, sf12Down125 } from './common.js';
import { dynamicPlan } from './dynamic-plan.js';

/** §2.4.3 Table "EU863-870 Data Rate" and §2.4.6 "Maximum payload size" (N; not repeater-compatible). */
export const EU868_DATA_RATES = [
  ...sf12Down125([51, 51, 51, 115, 242, 242]),
  rate(6, lora(7, 250), 242),
  rate(7, FSK_50K, 242),
];

export const EU868 = dynamicPlan({
  id: 'EU868',
  bandHz: [863_000_000, 870_000_000],
  dataRates: EU868_DATA_RATES,
  /** §2.4.2 default channels, DR0..DR5. */
  defaultChannelsHz: [868_100_000, 868_300_000, 868_500_000],
  extraChannelsHz: [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000],
  channelDrs: { minDr: 0, maxDr: 5 },
  /** §2.4.7 RX1 DR table: DR = max(0, uplink DR − RX1DROffset), offsets 0..5. */
  rx1: { effectiveOffsets: [0, 1, 2, 3, 4, 5], minDr: 0, maxDr: 7 },
  /** §2.4.7: RX2 default 869.525 MHz, DR0. */
  rx2: { frequencyHz: 869_525_000, dr: 0 },
  /** §2.4.3 Table "EU863-870 TX power table": TXPower n is MaxEIRP − 2n dB for n = 0..7, MaxEIRP 16 dBm. */
  maxEirpDbm: 16,
  maxTxPowerIndex: 7,
  /**
   * 14 dBm: ETSI EN 300 220-2 limits the 868.0-868.6 MHz sub-band (RX1 on the
   * default channels) to 25 mW ERP (~14 dBm); RP002 leaves gateway power to regulation.
   */
  downlinkTxPowerDbm: 14,
  /**
   * ERC Recommendation 70-03 Annex 1 / ETSI EN 300 220-2 sub-bands as LoRaWAN
   * stacks apply them (LoRaMac-node RegionEU868 uses the same split).
   */
  dutyCycle: [
    { name: 'h1.3', minHz: 863_000_000, maxHz: 865_000_000, dutyCycle: 0.001 },
    { name: 'g', minHz: 865_000_000, maxHz: 868_000_000, dutyCycle: 0.01 },
    { name: 'g1', minHz: 868_000_000, maxHz: 868_600_000, dutyCycle: 0.01 },
    { name: 'g2', minHz: 868_700_000, maxHz: 869_200_000, dutyCycle: 0.001 },
    { name: 'g3', minHz: 869_400_000, maxHz: 869_650_000, dutyCycle: 0.1 },
    { name: 'g4', minHz: 869_700_000, maxHz: 870_000_000, dutyCycle: 0.01 },
  ],
});
