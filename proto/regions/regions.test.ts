import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { EU868, getRegion, timeOnAirMs, US915 } from './index.js';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

describe('getRegion', () => {
  it('returns the tables for any case and names the allowed ids for anything else', () => {
    expect(getRegion('EU868')).toBe(EU868);
    expect(getRegion('eu868')).toBe(EU868);
    expect(getRegion('US915')).toBe(US915);
    expect(getRegion('au915-sb3').id).toBe('AU915-SB3');
    for (const bad of ['AS923', 'US915-SB9', 'toString', '']) {
      try {
        getRegion(bad);
        throw new Error(`accepted ${bad}`);
      } catch (err) {
        expect(isMaverickError(err, ErrorCode.LorawanRegion)).toBe(true);
        expect((err as Error).message).toMatch(
          /use one of EU868, US915, AU915, AS923-1, AS923-2, AS923-3, AS923-4, IN865, KR920/,
        );
      }
    }
  });
});

describe('EU868 (RP002-1.0.4 §2.4)', () => {
  it('maps RX1 to the uplink frequency and DR minus offset, floored at DR0', () => {
    expect(EU868.rx1Frequency(868_100_000)).toBe(868_100_000);
    expect(EU868.rx1Frequency(867_900_000)).toBe(867_900_000);
    expect(() => EU868.rx1Frequency(915_000_000)).toThrow(/outside 863-870/);
    expect(EU868.rx1DataRate(5, 0)).toBe(5);
    expect(EU868.rx1DataRate(5, 3)).toBe(2);
    expect(EU868.rx1DataRate(2, 5)).toBe(0);
    expect(EU868.rx1DataRate(7, 5)).toBe(2);
    expect(() => EU868.rx1DataRate(5, 6)).toThrow(/RX1DROffset 6/);
  });

  it('has the RX2 default, delays, and the DR table', () => {
    expect(EU868.rx2).toEqual({ frequencyHz: 869_525_000, dr: 0 });
    expect([
      EU868.receiveDelay1Ms,
      EU868.receiveDelay2Ms,
      EU868.joinAcceptDelay1Ms,
      EU868.joinAcceptDelay2Ms,
    ]).toEqual([1000, 2000, 5000, 6000]);
    expect(EU868.dataRateIndex({ modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 })).toBe(0);
    expect(EU868.dataRateIndex({ modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 250 })).toBe(6);
    expect(EU868.dataRateIndex({ modulation: 'FSK', bitrate: 50_000 })).toBe(7);
    expect(
      EU868.dataRateIndex({ modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 500 }),
    ).toBeUndefined();
    expect(EU868.dataRate(0)?.maxPayload).toBe(51);
    expect(EU868.dataRate(3)?.maxPayload).toBe(115);
    expect(EU868.dataRate(5)?.maxMacPayload).toBe(250);
  });

  it('gives TX power MaxEIRP - 2n for n = 0..7', () => {
    expect(EU868.txPowerDbm(0)).toBe(16);
    expect(EU868.txPowerDbm(7)).toBe(2);
    expect(EU868.txPowerDbm(8)).toBeUndefined();
  });

  it('encodes the five 867.x MHz channels in the CFList', () => {
    // 867.1 MHz = 8671000 x 100 Hz = 0x844f18, little-endian 18 4f 84; then 867.3, .5, .7, .9 and CFListType 0.
    expect(hex(EU868.joinAcceptCfList())).toBe('184f84e85684b85e84886684586e84' + '00');
    expect(EU868.uplinkChannels.map((c) => c.frequencyHz / 1e5)).toEqual([
      8681, 8683, 8685, 8671, 8673, 8675, 8677, 8679,
    ]);
    expect(EU868.linkAdrChannelMask()).toEqual([{ chMask: 0xff, chMaskCntl: 0 }]);
  });

  it('puts every channel in a duty-cycle sub-band (1% on g/g1, 10% for RX2 in g3)', () => {
    const band = (hz: number) => EU868.dutyCycle?.subBands.find((b) => hz >= b.minHz && hz <= b.maxHz);
    for (const c of EU868.uplinkChannels) expect(band(c.frequencyHz)?.dutyCycle).toBe(0.01);
    expect(band(EU868.rx2.frequencyHz)).toMatchObject({ name: 'g3', dutyCycle: 0.1 });
  });
});

describe('US915 (RP002-1.0.4 §2.5)', () => {
  it('maps RX1 to downlink channel (uplink channel mod 8)', () => {
    expect(US915.rx1Frequency(903_900_000)).toBe(923_300_000); // ch 8
    expect(US915.rx1Frequency(904_100_000)).toBe(923_900_000); // ch 9
    expect(US915.rx1Frequency(905_300_000)).toBe(927_500_000); // ch 15
    expect(US915.rx1Frequency(902_300_000)).toBe(923_300_000); // ch 0
    expect(US915.rx1Frequency(904_600_000)).toBe(923_900_000); // ch 65
    expect(() => US915.rx1Frequency(868_100_000)).toThrow(/not an upstream channel/);
  });

  it('uses the RX1 DR table and RX2 923.3 MHz DR8', () => {
    expect(US915.rx1DataRate(0, 0)).toBe(10);
    expect(US915.rx1DataRate(3, 0)).toBe(13);
    expect(US915.rx1DataRate(0, 3)).toBe(8);
    expect(US915.rx1DataRate(4, 1)).toBe(13);
    expect(() => US915.rx1DataRate(4, 4)).toThrow(/RX1DROffset 4/);
    expect(() => US915.rx1DataRate(8, 0)).toThrow(/uplink DR8/);
    expect(US915.rx2).toEqual({ frequencyHz: 923_300_000, dr: 8 });
  });

  it('resolves SF8BW500 to uplink DR4, not downlink DR12', () => {
    expect(US915.dataRateIndex({ modulation: 'LORA', spreadingFactor: 8, bandwidthKHz: 500 })).toBe(4);
    expect(
      US915.dataRateIndex({ modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 500 }),
    ).toBeUndefined();
    expect(US915.dataRate(0)?.maxPayload).toBe(11);
  });

  it('enables sub-band 2 (ch 8-15 + 65) by CFList and LinkADRReq', () => {
    expect(US915.uplinkChannels.map((c) => c.frequencyHz)).toEqual([
      903_900_000, 904_100_000, 904_300_000, 904_500_000, 904_700_000, 904_900_000, 905_100_000, 905_300_000,
      904_600_000,
    ]);
    expect(hex(US915.joinAcceptCfList())).toBe(
      '00ff' + '0000' + '0000' + '0000' + '0200' + '0000000000' + '01',
    );
    expect(US915.linkAdrChannelMask()).toEqual([
      { chMask: 0x0002, chMaskCntl: 7 },
      { chMask: 0xff00, chMaskCntl: 0 },
    ]);
    expect(US915.txPowerDbm(0)).toBe(30);
    expect(US915.txPowerDbm(14)).toBe(2);
    expect(US915.txPowerDbm(15)).toBeUndefined();
    expect(US915.dutyCycle).toBeUndefined();
  });
});

describe('timeOnAirMs (Semtech AN1200.13)', () => {
  const sf = (spreadingFactor: number, bandwidthKHz = 125) => ({
    modulation: 'LORA' as const,
    spreadingFactor,
    bandwidthKHz,
  });

  it('matches figures worked by hand from the formula', () => {
    // SF7BW125, 13 bytes: 12.25 preamble + 33 payload symbols of 1.024 ms.
    expect(timeOnAirMs(sf(7), 13)).toBeCloseTo(46.336, 3);
    // SF12BW125, 51 bytes, low-data-rate optimisation on: 12.25 + 63 symbols of 32.768 ms.
    expect(timeOnAirMs(sf(12), 51)).toBeCloseTo(2465.792, 3);
    // SF9BW125, 20 bytes: 12.25 + 33 symbols of 4.096 ms.
    expect(timeOnAirMs(sf(9), 20)).toBeCloseTo(185.344, 3);
    // SF7BW250 is twice as fast as SF7BW125 for the same bytes.
    expect(timeOnAirMs(sf(7, 250), 13)).toBeCloseTo(46.336 / 2, 3);
  });

  it('honours the options and FSK', () => {
    expect(timeOnAirMs(sf(7), 13, { crc: false })).toBeLessThan(timeOnAirMs(sf(7), 13));
    expect(timeOnAirMs(sf(7), 13, { codingRate: 4 })).toBeGreaterThan(timeOnAirMs(sf(7), 13));
    expect(timeOnAirMs(sf(12), 51, { lowDataRateOptimize: false })).toBeLessThan(timeOnAirMs(sf(12), 51));
    // FSK 50 kbps: (5 + 3 + 1 + 10 + 2) bytes x 8 bits / 50 kbit/s = 3.36 ms.
    expect(timeOnAirMs({ modulation: 'FSK', bitrate: 50_000 }, 10)).toBeCloseTo(3.36, 6);
    expect(() => timeOnAirMs(sf(7), 256)).toThrow(/0..255/);
  });
});
