/**
 * Every plan against RP002-1.0.4's tables, typed in here from the document
 * (not computed from the plan files): channels, DR table, maximum payload per
 * DR, RX1 DR and channel mapping, RX2 and CFList. Each test names its table.
 */
import { describe, expect, it } from 'vitest';
import type { DataRate } from '../radio.js';
import { AS923_MAX_PAYLOAD } from './as923.js';
import {
  AS923_1,
  AS923_2,
  AS923_3,
  AS923_4,
  AU915,
  getRegion,
  IN865,
  KR920,
  knownCountries,
  PLAN_IDS,
  planRegions,
  plansForCountry,
  REGION_IDS,
  type Region,
} from './index.js';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const mhz = (r: Region) => r.uplinkChannels.map((c) => c.frequencyHz / 1e6);
const sf = (s: number, bw = 125): DataRate => ({ modulation: 'LORA', spreadingFactor: s, bandwidthKHz: bw });
const drTable = (r: Region) =>
  r.dataRates.map((d) =>
    d.dataRate.modulation === 'LORA'
      ? `DR${d.dr} SF${d.dataRate.spreadingFactor}BW${d.dataRate.bandwidthKHz}`
      : `DR${d.dr} FSK${d.dataRate.bitrate / 1000}`,
  );
/** DR0..DR5 of every plan but US915: SF12..SF7 at 125 kHz. */
const SF12_TO_SF7 = [
  'DR0 SF12BW125',
  'DR1 SF11BW125',
  'DR2 SF10BW125',
  'DR3 SF9BW125',
  'DR4 SF8BW125',
  'DR5 SF7BW125',
];
const maxPayloads = (r: Region) => Object.fromEntries(r.dataRates.map((d) => [d.dr, d.maxPayload]));
/** RX1 DR for every (uplink DR, offset) pair: one row per uplink DR. */
const rx1Table = (r: Region, drs: number[], offsets: number) =>
  drs.map((dr) => Array.from({ length: offsets }, (_, o) => r.rx1DataRate(dr, o)));

describe('AU915-928 (RP002-1.0.4 §2.8)', () => {
  it('§2.8.3 Table "AU915-928 Data Rate"', () => {
    expect(drTable(AU915)).toEqual([
      ...SF12_TO_SF7,
      'DR6 SF8BW500',
      'DR8 SF12BW500',
      'DR9 SF11BW500',
      'DR10 SF10BW500',
      'DR11 SF9BW500',
      'DR12 SF8BW500',
      'DR13 SF7BW500',
    ]);
    expect(AU915.dataRateIndex(sf(8, 500))).toBe(6);
  });

  it('§2.8.6 Table "AU915-928 maximum payload size" (UplinkDwellTime = 0)', () => {
    expect(maxPayloads(AU915)).toEqual({
      0: 51,
      1: 51,
      2: 51,
      3: 115,
      4: 242,
      5: 242,
      6: 242,
      8: 53,
      9: 129,
      10: 242,
      11: 242,
      12: 242,
      13: 242,
    });
    expect(AU915.dataRate(0)?.maxMacPayload).toBe(59);
  });

  it('§2.8.2 channel frequencies: sub-band 2 is 916.8..918.2 MHz + 917.5 MHz (500 kHz)', () => {
    expect(mhz(AU915)).toEqual([916.8, 917, 917.2, 917.4, 917.6, 917.8, 918, 918.2, 917.5]);
    expect(mhz(getRegion('AU915-SB1'))).toEqual([
      915.2, 915.4, 915.6, 915.8, 916, 916.2, 916.4, 916.6, 915.9,
    ]);
    expect(mhz(getRegion('AU915-SB8'))[8]).toBeCloseTo(927.1, 6);
    expect(AU915.defaultChannels).toHaveLength(72);
  });

  it('§2.8.7 Table "AU915-928 RX1 data rate" and RX1 channel = upstream channel mod 8', () => {
    expect(rx1Table(AU915, [0, 1, 2, 3, 4, 5, 6], 6)).toEqual([
      [8, 8, 8, 8, 8, 8],
      [9, 8, 8, 8, 8, 8],
      [10, 9, 8, 8, 8, 8],
      [11, 10, 9, 8, 8, 8],
      [12, 11, 10, 9, 8, 8],
      [13, 12, 11, 10, 9, 8],
      [13, 13, 12, 11, 10, 9],
    ]);
    expect(AU915.rx1Frequency(916_800_000)).toBe(923_300_000); // ch 8
    expect(AU915.rx1Frequency(918_200_000)).toBe(927_500_000); // ch 15
    expect(AU915.rx1Frequency(917_500_000)).toBe(923_900_000); // ch 65
    expect(AU915.rx2).toEqual({ frequencyHz: 923_300_000, dr: 8 });
  });

  it('§2.8.4 CFList type 1 and §2.8.5 ChMaskCntl keep the device on its sub-band', () => {
    expect(hex(AU915.joinAcceptCfList())).toBe(
      '00ff' + '0000' + '0000' + '0000' + '0200' + '0000000000' + '01',
    );
    expect(AU915.linkAdrChannelMask()).toEqual([
      { chMask: 0x0002, chMaskCntl: 7 },
      { chMask: 0xff00, chMaskCntl: 0 },
    ]);
    const sb7 = getRegion('AU915-SB7');
    expect(hex(sb7.joinAcceptCfList())).toBe(
      '0000' + '0000' + '0000' + 'ff00' + '4000' + '0000000000' + '01',
    );
    expect(sb7.linkAdrChannelMask()).toEqual([
      { chMask: 0x0040, chMaskCntl: 7 },
      { chMask: 0x00ff, chMaskCntl: 3 },
    ]);
    expect([AU915.txPowerDbm(0), AU915.txPowerDbm(14), AU915.txPowerDbm(15)]).toEqual([30, 2, undefined]);
  });
});

describe('US902-928 sub-bands (RP002-1.0.4 §2.5)', () => {
  it('§2.5.2 channel frequencies and §2.5.4 CFList per sub-band', () => {
    const sb1 = getRegion('US915-SB1');
    expect(mhz(sb1)).toEqual([902.3, 902.5, 902.7, 902.9, 903.1, 903.3, 903.5, 903.7, 903]);
    expect(hex(sb1.joinAcceptCfList())).toBe(
      'ff00' + '0000' + '0000' + '0000' + '0100' + '0000000000' + '01',
    );
    expect(getRegion('US915-SB2').uplinkChannels).toEqual(getRegion('US915').uplinkChannels);
    const sb8 = getRegion('us915-sb8');
    expect(mhz(sb8)[0]).toBeCloseTo(913.5, 6);
    expect(sb8.linkAdrChannelMask()).toEqual([
      { chMask: 0x0080, chMaskCntl: 7 },
      { chMask: 0xff00, chMaskCntl: 3 },
    ]);
  });
});

describe('AS923 (RP002-1.0.4 §2.10)', () => {
  it('§2.10.3 Table "AS923 Data Rate" and §2.10.6 maximum payload size with dwell time (UplinkDwellTime = 1)', () => {
    expect(drTable(AS923_1)).toEqual([...SF12_TO_SF7, 'DR6 SF7BW250', 'DR7 FSK50']);
    expect(maxPayloads(AS923_1)).toEqual({ 0: 0, 1: 0, 2: 11, 3: 53, 4: 125, 5: 242, 6: 242, 7: 242 });
    expect(AS923_MAX_PAYLOAD.noDwellTime).toEqual([51, 51, 51, 115, 242, 242, 242, 242]);
  });

  it('§2.10.2 AS923_FREQ_OFFSET moves the default channels and RX2 (AS923-1..4)', () => {
    const defaults = (r: Region) => r.defaultChannels.map((c) => c.frequencyHz / 1e5);
    expect(defaults(AS923_1)).toEqual([9232, 9234]);
    expect(defaults(AS923_2)).toEqual([9214, 9216]);
    expect(defaults(AS923_3)).toEqual([9166, 9168]);
    expect(defaults(AS923_4)).toEqual([9173, 9175]);
    expect([AS923_1, AS923_2, AS923_3, AS923_4].map((r) => r.rx2)).toEqual([
      { frequencyHz: 923_200_000, dr: 2 },
      { frequencyHz: 921_400_000, dr: 2 },
      { frequencyHz: 916_600_000, dr: 2 },
      { frequencyHz: 917_300_000, dr: 2 },
    ]);
    for (const r of [AS923_1, AS923_2, AS923_3, AS923_4]) {
      expect(r.uplinkChannels).toHaveLength(8);
      for (const c of r.uplinkChannels) {
        expect(c.frequencyHz).toBeGreaterThanOrEqual(r.bandHz[0]);
        expect(c.frequencyHz).toBeLessThanOrEqual(r.bandHz[1]);
      }
    }
  });

  it('§2.10.7 RX1 DR table with DownlinkDwellTime = 1 (MinDR 2, offsets 6/7 = −1/−2) and RX1 = uplink frequency', () => {
    expect(rx1Table(AS923_2, [0, 1, 2, 3, 4, 5, 6, 7], 8)).toEqual([
      [2, 2, 2, 2, 2, 2, 2, 2],
      [2, 2, 2, 2, 2, 2, 2, 3],
      [2, 2, 2, 2, 2, 2, 3, 4],
      [3, 2, 2, 2, 2, 2, 4, 5],
      [4, 3, 2, 2, 2, 2, 5, 5],
      [5, 4, 3, 2, 2, 2, 5, 5],
      [5, 5, 4, 3, 2, 2, 5, 5],
      [5, 5, 5, 4, 3, 2, 5, 5],
    ]);
    expect(AS923_2.rx1Frequency(921_400_000)).toBe(921_400_000);
    expect(() => AS923_2.rx1Frequency(923_200_000)).toThrow(/outside 920-923 MHz/);
  });

  it('§2.10.4 CFList type 0 for the channels after the two defaults, and TxParamSetupReq data', () => {
    // AS923-2: 920.4 MHz = 9204000 x 100 Hz = 0x8C7120 -> 20 71 8c, then 920.6, 920.8, 921.0, 921.2.
    expect(hex(AS923_2.joinAcceptCfList())).toBe('20718cf0788cc0808c90888c60908c' + '00');
    expect(AS923_2.linkAdrChannelMask()).toEqual([{ chMask: 0xff, chMaskCntl: 0 }]);
    expect(AS923_2.txParams).toEqual({ uplinkDwellTime: true, downlinkDwellTime: true, maxEirpIndex: 5 });
    expect([AS923_1.txPowerDbm(0), AS923_1.txPowerDbm(7), AS923_1.txPowerDbm(8)]).toEqual([16, 2, undefined]);
  });
});

describe('IN865-867 (RP002-1.0.4 §2.12)', () => {
  it('§2.12.3 Table "IN865-867 Data Rate" (DR6 RFU) and §2.12.6 maximum payload size', () => {
    expect(drTable(IN865)).toEqual([...SF12_TO_SF7, 'DR7 FSK50']);
    expect(maxPayloads(IN865)).toEqual({ 0: 51, 1: 51, 2: 51, 3: 115, 4: 242, 5: 242, 7: 242 });
  });

  it('§2.12.2 default channels, §2.12.7 RX1 DR table and RX2 866.55 MHz DR2', () => {
    expect(mhz(IN865).slice(0, 3)).toEqual([865.0625, 865.4025, 865.985]);
    expect(rx1Table(IN865, [0, 1, 2, 3, 4, 5], 8)).toEqual([
      [0, 0, 0, 0, 0, 0, 1, 2],
      [1, 0, 0, 0, 0, 0, 2, 3],
      [2, 1, 0, 0, 0, 0, 3, 4],
      [3, 2, 1, 0, 0, 0, 4, 5],
      [4, 3, 2, 1, 0, 0, 5, 5],
      [5, 4, 3, 2, 1, 0, 5, 5],
    ]);
    expect(IN865.rx1DataRate(7, 0)).toBe(5);
    expect(() => IN865.rx1DataRate(6, 0)).toThrow(/DR6/);
    expect(IN865.rx2).toEqual({ frequencyHz: 866_550_000, dr: 2 });
    expect([IN865.txPowerDbm(0), IN865.txPowerDbm(10), IN865.txPowerDbm(11)]).toEqual([30, 10, undefined]);
    expect(IN865.dutyCycle).toBeUndefined();
  });

  it('§2.12.4 CFList type 0', () => {
    // 866.185 MHz = 8661850 x 100 Hz = 0x842B5A -> 5a 2b 84.
    expect(hex(IN865.joinAcceptCfList()).slice(0, 6)).toBe('5a2b84');
    expect(IN865.joinAcceptCfList()?.[15]).toBe(0);
  });
});

describe('KR920-923 (RP002-1.0.4 §2.11)', () => {
  it('§2.11.3 Table "KR920-923 Data Rate" and §2.11.6 maximum payload size', () => {
    expect(drTable(KR920)).toEqual(SF12_TO_SF7);
    expect(maxPayloads(KR920)).toEqual({ 0: 51, 1: 51, 2: 51, 3: 115, 4: 242, 5: 242 });
  });

  it('§2.11.2 default channels, §2.11.7 RX1 DR table and RX2 921.9 MHz DR0, LBT instead of duty cycle', () => {
    expect(mhz(KR920).slice(0, 3)).toEqual([922.1, 922.3, 922.5]);
    expect(rx1Table(KR920, [0, 5], 6)).toEqual([
      [0, 0, 0, 0, 0, 0],
      [5, 4, 3, 2, 1, 0],
    ]);
    expect(() => KR920.rx1DataRate(5, 6)).toThrow(/RX1DROffset 6/);
    expect(KR920.rx2).toEqual({ frequencyHz: 921_900_000, dr: 0 });
    expect([KR920.txPowerDbm(0), KR920.txPowerDbm(7)]).toEqual([14, 0]);
    expect(KR920.listenBeforeTalk).toBeDefined();
    expect(KR920.dutyCycle).toBeUndefined();
    expect(hex(KR920.joinAcceptCfList()).slice(0, 6)).toBe(
      Buffer.from([9227000 & 0xff, (9227000 >> 8) & 0xff, 9227000 >> 16]).toString('hex'),
    );
  });
});

describe('every plan', () => {
  it('is one getRegion away under its id, and its channels are in its band and carry uplink DRs', () => {
    expect(planRegions().map((r) => r.id)).toEqual([...PLAN_IDS]);
    for (const id of REGION_IDS) {
      const r = getRegion(id);
      expect(r.id).toBe(id);
      expect(r.uplinkChannels.length).toBeGreaterThanOrEqual(8);
      for (const c of r.uplinkChannels) {
        expect(c.frequencyHz).toBeGreaterThanOrEqual(r.bandHz[0]);
        expect(c.frequencyHz).toBeLessThanOrEqual(r.bandHz[1]);
        expect(r.dataRate(c.minDr)?.uplink).toBe(true);
      }
      expect(r.isDownlinkFrequency(r.rx2.frequencyHz)).toBe(true);
      expect(r.dataRate(r.rx2.dr)?.downlink).toBe(true);
      // Every (channel, DR, RX1DROffset) the plan's devices may use has an RX1 the gateway may send.
      for (const c of r.defaultChannels) {
        expect(r.isDownlinkFrequency(r.rx1Frequency(c.frequencyHz))).toBe(true);
        for (let dr = c.minDr; dr <= c.maxDr; dr++) {
          for (let offset = 0; offset <= r.maxRx1DrOffset; offset++) {
            expect(r.dataRate(r.rx1DataRate(dr, offset))?.downlink).toBe(true);
          }
        }
      }
      // TXPower 0 is the plan's MaxEIRP.
      expect(r.txPowerDbm(0)).toBe(r.maxEirpDbm);
    }
  });
});

describe('country table (RP002-1.0.4 §1)', () => {
  it('proposes the farming countries their plans, in any case, and lists several where allowed', () => {
    expect(plansForCountry('br')).toEqual({ country: 'BR', plans: ['AU915'] });
    expect(plansForCountry('ID')?.plans).toEqual(['AS923-2']);
    expect(plansForCountry('NI')?.plans).toEqual(['AU915', 'US915']);
    expect(plansForCountry('CI')?.plans).toEqual(['EU868']);
    expect(plansForCountry('ZZ')).toBeUndefined();
    for (const c of knownCountries()) {
      expect(c).toMatch(/^[A-Z]{2}$/);
      for (const plan of plansForCountry(c)?.plans ?? []) expect(getRegion(plan).plan).toBe(plan);
    }
  });
});
