import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { encodeMacCommands, MAC_COMMANDS, type MacCommand, macCommandSize, parseMacCommands } from './mac.js';

/** One representative value of every command, with fields at their edges. */
const SAMPLES: { direction: 'up' | 'down'; cmd: MacCommand; hex: string }[] = [
  { direction: 'up', cmd: { cid: 'LinkCheckReq' }, hex: '02' },
  { direction: 'down', cmd: { cid: 'LinkCheckAns', margin: 20, gwCnt: 3 }, hex: '021403' },
  {
    direction: 'down',
    cmd: { cid: 'LinkADRReq', dataRate: 5, txPower: 2, chMask: 0xff00, chMaskCntl: 7, nbTrans: 1 },
    hex: '035200ff71',
  },
  {
    direction: 'up',
    cmd: { cid: 'LinkADRAns', powerAck: true, dataRateAck: false, channelMaskAck: true },
    hex: '0305',
  },
  { direction: 'down', cmd: { cid: 'DutyCycleReq', maxDutyCycle: 7 }, hex: '0407' },
  { direction: 'up', cmd: { cid: 'DutyCycleAns' }, hex: '04' },
  // 869.525 MHz = 8695250 * 100 Hz = 0x84add2 -> d2 ad 84
  {
    direction: 'down',
    cmd: { cid: 'RXParamSetupReq', rx1DrOffset: 2, rx2DataRate: 3, frequencyHz: 869_525_000 },
    hex: '0523d2ad84',
  },
  {
    direction: 'up',
    cmd: { cid: 'RXParamSetupAns', rx1DrOffsetAck: true, rx2DataRateAck: true, channelAck: false },
    hex: '0506',
  },
  { direction: 'down', cmd: { cid: 'DevStatusReq' }, hex: '06' },
  { direction: 'up', cmd: { cid: 'DevStatusAns', battery: 255, margin: -1 }, hex: '06ff3f' },
  { direction: 'up', cmd: { cid: 'DevStatusAns', battery: 0, margin: -32 }, hex: '060020' },
  { direction: 'up', cmd: { cid: 'DevStatusAns', battery: 200, margin: 31 }, hex: '06c81f' },
  // 867.1 MHz = 0x844f18 -> 18 4f 84
  {
    direction: 'down',
    cmd: { cid: 'NewChannelReq', chIndex: 3, frequencyHz: 867_100_000, minDr: 0, maxDr: 5 },
    hex: '0703184f8450',
  },
  {
    direction: 'up',
    cmd: { cid: 'NewChannelAns', dataRateRangeOk: true, channelFrequencyOk: true },
    hex: '0703',
  },
  { direction: 'down', cmd: { cid: 'RXTimingSetupReq', delay: 15 }, hex: '080f' },
  { direction: 'up', cmd: { cid: 'RXTimingSetupAns' }, hex: '08' },
  {
    direction: 'down',
    cmd: { cid: 'TxParamSetupReq', downlinkDwellTime: true, uplinkDwellTime: false, maxEirp: 13 },
    hex: '092d',
  },
  { direction: 'up', cmd: { cid: 'TxParamSetupAns' }, hex: '09' },
  {
    direction: 'down',
    cmd: { cid: 'DlChannelReq', chIndex: 0, frequencyHz: 868_100_000 },
    hex: '0a00287684',
  },
  {
    direction: 'up',
    cmd: { cid: 'DlChannelAns', uplinkFrequencyExists: true, channelFrequencyOk: false },
    hex: '0a02',
  },
  { direction: 'up', cmd: { cid: 'DeviceTimeReq' }, hex: '0d' },
  {
    direction: 'down',
    cmd: { cid: 'DeviceTimeAns', gpsSeconds: 0x4f3a2b1c, fraction256: 128 },
    hex: '0d1c2b3a4f80',
  },
  { direction: 'up', cmd: { cid: 'PingSlotInfoReq', periodicity: 7 }, hex: '1007' },
  { direction: 'down', cmd: { cid: 'PingSlotInfoAns' }, hex: '10' },
  {
    direction: 'down',
    cmd: { cid: 'PingSlotChannelReq', frequencyHz: 869_525_000, dataRate: 3 },
    hex: '11d2ad8403',
  },
  {
    direction: 'up',
    cmd: { cid: 'PingSlotChannelAns', dataRateOk: false, channelFrequencyOk: true },
    hex: '1101',
  },
  { direction: 'up', cmd: { cid: 'BeaconTimingReq' }, hex: '12' },
  { direction: 'down', cmd: { cid: 'BeaconTimingAns', delay: 0x1234, channel: 2 }, hex: '12341202' },
  { direction: 'down', cmd: { cid: 'BeaconFreqReq', frequencyHz: 869_525_000 }, hex: '13d2ad84' },
  { direction: 'up', cmd: { cid: 'BeaconFreqAns', beaconFrequencyOk: true }, hex: '1301' },
];

describe('MAC commands', () => {
  it('has a sample for every command in the table', () => {
    const sampled = new Set(SAMPLES.map((s) => s.cmd.cid));
    expect(MAC_COMMANDS.filter((c) => !sampled.has(c.name)).map((c) => c.name)).toEqual([]);
  });

  for (const { direction, cmd, hex } of SAMPLES) {
    it(`${cmd.cid} (${direction}) encodes to ${hex} and parses back`, () => {
      expect(toHex(encodeMacCommands([cmd], direction))).toBe(hex);
      expect(parseMacCommands(fromHex(hex), direction)).toEqual({ commands: [cmd] });
      expect(macCommandSize(cmd.cid)).toBe(hex.length / 2);
    });
  }

  it('round-trips all commands of one direction concatenated', () => {
    for (const direction of ['up', 'down'] as const) {
      const cmds = SAMPLES.filter((s) => s.direction === direction).map((s) => s.cmd);
      const bytes = encodeMacCommands(cmds, direction);
      expect(parseMacCommands(bytes, direction)).toEqual({ commands: cmds });
    }
  });

  it('stops at a truncated command, keeping the ones before it', () => {
    const result = parseMacCommands(fromHex('0603' + '035200'), 'down');
    expect(result.commands).toEqual([{ cid: 'DevStatusReq' }]);
    expect(result.error).toMatch(/LinkADRReq at byte 1 needs 4 payload bytes, 3 left/);
  });

  it('stops at an unknown or proprietary CID and says which', () => {
    const unknown = parseMacCommands(fromHex('02' + '0b01' + '02'), 'up');
    expect(unknown.commands).toEqual([{ cid: 'LinkCheckReq' }]);
    expect(unknown.error).toMatch(/unknown uplink CID 0x0b at byte 1/);
    expect(parseMacCommands(fromHex('80ff'), 'down').error).toMatch(
      /proprietary downlink CID 0x80 at byte 0/,
    );
    expect(parseMacCommands(new Uint8Array(0), 'up')).toEqual({ commands: [] });
  });

  it('refuses a command in the wrong direction and fields out of range', () => {
    expect(() => encodeMacCommands([{ cid: 'DevStatusReq' }], 'up')).toThrow(/not a uplink MAC command/);
    expect(() => encodeMacCommands([{ cid: 'DevStatusAns', battery: 1, margin: 32 }], 'up')).toThrow(
      /margin/,
    );
    expect(() =>
      encodeMacCommands(
        [{ cid: 'NewChannelReq', chIndex: 3, frequencyHz: 867_100_050, minDr: 0, maxDr: 5 }],
        'down',
      ),
    ).toThrow(/multiple of 100 Hz/);
    expect(() =>
      encodeMacCommands(
        [{ cid: 'LinkADRReq', dataRate: 16, txPower: 0, chMask: 0, chMaskCntl: 0, nbTrans: 0 }],
        'down',
      ),
    ).toThrow(/dataRate/);
  });

  it('re-encodes whatever it parsed to bytes that parse the same (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom('up' as const, 'down' as const),
        (bytes, direction) => {
          const first = parseMacCommands(bytes, direction);
          const again = parseMacCommands(encodeMacCommands(first.commands, direction), direction);
          expect(again).toEqual({ commands: first.commands });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
