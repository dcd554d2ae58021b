/**
 * The MAC command table (LoRaWAN 1.0.3 §5, Table 4; lengths and bit layouts
 * from §5.1–§5.13, Class B from §13–§14): for each CID and direction, the
 * payload length and how to decode and encode it.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { readUintLE, writeUintLE } from './bytes.js';
import type { MacCommand, MacCommandName, MacDirection } from './mac-types.js';

type Cmd<N extends MacCommandName> = Extract<MacCommand, { cid: N }>;

export interface MacSpec<N extends MacCommandName> {
  cid: number;
  name: N;
  direction: MacDirection;
  /** Payload length after the CID byte. */
  length: number;
  decode(payload: Uint8Array): Cmd<N>;
  encode(cmd: Cmd<N>): number[];
}

function field(value: number, min: number, max: number, name: string, cid: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MaverickError(
      ErrorCode.LorawanMacCommand,
      `${cid}.${name} must be an integer in ${min}..${max}`,
      {
        context: { cid, field: name, value },
      },
    );
  }
  return value;
}

/** Frequencies travel as 24-bit little-endian multiples of 100 Hz (§5.6). */
function frequencyBytes(hz: number, cid: string): number[] {
  if (!Number.isInteger(hz) || hz % 100 !== 0 || hz < 0 || hz > 0xffffff * 100) {
    throw new MaverickError(
      ErrorCode.LorawanMacCommand,
      `${cid}.frequencyHz must be a multiple of 100 Hz below 1.68 GHz`,
      {
        context: { cid, frequencyHz: hz },
      },
    );
  }
  const v = hz / 100;
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];
}
const readFrequency = (p: Uint8Array, at: number) => readUintLE(p, at, 3) * 100;
const bit = (b: number, n: number) => ((b >>> n) & 1) === 1;
const bits = (...flags: boolean[]) =>
  flags.reduce((acc, f, i) => acc | (f ? 1 << (flags.length - 1 - i) : 0), 0);

function empty<N extends MacCommandName>(cid: number, name: N, direction: MacDirection): MacSpec<N> {
  return { cid, name, direction, length: 0, decode: () => ({ cid: name }) as Cmd<N>, encode: () => [] };
}

function spec<N extends MacCommandName>(s: MacSpec<N>): MacSpec<N> {
  return s;
}

export const SPECS = [
  empty(0x02, 'LinkCheckReq', 'up'),
  spec({
    cid: 0x02,
    name: 'LinkCheckAns',
    direction: 'down',
    length: 2,
    decode: (p) => ({ cid: 'LinkCheckAns', margin: p[0], gwCnt: p[1] }),
    encode: (c) => [field(c.margin, 0, 255, 'margin', c.cid), field(c.gwCnt, 0, 255, 'gwCnt', c.cid)],
  }),
  spec({
    cid: 0x03,
    name: 'LinkADRReq',
    direction: 'down',
    length: 4,
    decode: (p) => ({
      cid: 'LinkADRReq',
      dataRate: p[0] >>> 4,
      txPower: p[0] & 0x0f,
      chMask: readUintLE(p, 1, 2),
      chMaskCntl: (p[3] >>> 4) & 0x07,
      nbTrans: p[3] & 0x0f,
    }),
    encode: (c) => {
      const chMask = field(c.chMask, 0, 0xffff, 'chMask', c.cid);
      return [
        (field(c.dataRate, 0, 15, 'dataRate', c.cid) << 4) | field(c.txPower, 0, 15, 'txPower', c.cid),
        chMask & 0xff,
        chMask >>> 8,
        (field(c.chMaskCntl, 0, 7, 'chMaskCntl', c.cid) << 4) | field(c.nbTrans, 0, 15, 'nbTrans', c.cid),
      ];
    },
  }),
  spec({
    cid: 0x03,
    name: 'LinkADRAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({
      cid: 'LinkADRAns',
      powerAck: bit(p[0], 2),
      dataRateAck: bit(p[0], 1),
      channelMaskAck: bit(p[0], 0),
    }),
    encode: (c) => [bits(c.powerAck, c.dataRateAck, c.channelMaskAck)],
  }),
  spec({
    cid: 0x04,
    name: 'DutyCycleReq',
    direction: 'down',
    length: 1,
    decode: (p) => ({ cid: 'DutyCycleReq', maxDutyCycle: p[0] & 0x0f }),
    encode: (c) => [field(c.maxDutyCycle, 0, 15, 'maxDutyCycle', c.cid)],
  }),
  empty(0x04, 'DutyCycleAns', 'up'),
  spec({
    cid: 0x05,
    name: 'RXParamSetupReq',
    direction: 'down',
    length: 4,
    decode: (p) => ({
      cid: 'RXParamSetupReq',
      rx1DrOffset: (p[0] >>> 4) & 0x07,
      rx2DataRate: p[0] & 0x0f,
      frequencyHz: readFrequency(p, 1),
    }),
    encode: (c) => [
      (field(c.rx1DrOffset, 0, 7, 'rx1DrOffset', c.cid) << 4) |
        field(c.rx2DataRate, 0, 15, 'rx2DataRate', c.cid),
      ...frequencyBytes(c.frequencyHz, c.cid),
    ],
  }),
  spec({
    cid: 0x05,
    name: 'RXParamSetupAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({
      cid: 'RXParamSetupAns',
      rx1DrOffsetAck: bit(p[0], 2),
      rx2DataRateAck: bit(p[0], 1),
      channelAck: bit(p[0], 0),
    }),
    encode: (c) => [bits(c.rx1DrOffsetAck, c.rx2DataRateAck, c.channelAck)],
  }),
  empty(0x06, 'DevStatusReq', 'down'),
  spec({
    cid: 0x06,
    name: 'DevStatusAns',
    direction: 'up',
    length: 2,
    // Margin is a signed 6-bit integer (§5.5): sign-extend bit 5.
    decode: (p) => ({ cid: 'DevStatusAns', battery: p[0], margin: ((p[1] & 0x3f) << 26) >> 26 }),
    encode: (c) => [
      field(c.battery, 0, 255, 'battery', c.cid),
      field(c.margin, -32, 31, 'margin', c.cid) & 0x3f,
    ],
  }),
  spec({
    cid: 0x07,
    name: 'NewChannelReq',
    direction: 'down',
    length: 5,
    decode: (p) => ({
      cid: 'NewChannelReq',
      chIndex: p[0],
      frequencyHz: readFrequency(p, 1),
      maxDr: p[4] >>> 4,
      minDr: p[4] & 0x0f,
    }),
    encode: (c) => [
      field(c.chIndex, 0, 255, 'chIndex', c.cid),
      ...frequencyBytes(c.frequencyHz, c.cid),
      (field(c.maxDr, 0, 15, 'maxDr', c.cid) << 4) | field(c.minDr, 0, 15, 'minDr', c.cid),
    ],
  }),
  spec({
    cid: 0x07,
    name: 'NewChannelAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({
      cid: 'NewChannelAns',
      dataRateRangeOk: bit(p[0], 1),
      channelFrequencyOk: bit(p[0], 0),
    }),
    encode: (c) => [bits(c.dataRateRangeOk, c.channelFrequencyOk)],
  }),
  spec({
    cid: 0x08,
    name: 'RXTimingSetupReq',
    direction: 'down',
    length: 1,
    decode: (p) => ({ cid: 'RXTimingSetupReq', delay: p[0] & 0x0f }),
    encode: (c) => [field(c.delay, 0, 15, 'delay', c.cid)],
  }),
  empty(0x08, 'RXTimingSetupAns', 'up'),
  spec({
    cid: 0x09,
    name: 'TxParamSetupReq',
    direction: 'down',
    length: 1,
    decode: (p) => ({
      cid: 'TxParamSetupReq',
      downlinkDwellTime: bit(p[0], 5),
      uplinkDwellTime: bit(p[0], 4),
      maxEirp: p[0] & 0x0f,
    }),
    encode: (c) => [
      (c.downlinkDwellTime ? 0x20 : 0) |
        (c.uplinkDwellTime ? 0x10 : 0) |
        field(c.maxEirp, 0, 15, 'maxEirp', c.cid),
    ],
  }),
  empty(0x09, 'TxParamSetupAns', 'up'),
  spec({
    cid: 0x0a,
    name: 'DlChannelReq',
    direction: 'down',
    length: 4,
    decode: (p) => ({ cid: 'DlChannelReq', chIndex: p[0], frequencyHz: readFrequency(p, 1) }),
    encode: (c) => [field(c.chIndex, 0, 255, 'chIndex', c.cid), ...frequencyBytes(c.frequencyHz, c.cid)],
  }),
  spec({
    cid: 0x0a,
    name: 'DlChannelAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({
      cid: 'DlChannelAns',
      uplinkFrequencyExists: bit(p[0], 1),
      channelFrequencyOk: bit(p[0], 0),
    }),
    encode: (c) => [bits(c.uplinkFrequencyExists, c.channelFrequencyOk)],
  }),
  empty(0x0d, 'DeviceTimeReq', 'up'),
  spec({
    cid: 0x0d,
    name: 'DeviceTimeAns',
    direction: 'down',
    length: 5,
    decode: (p) => ({ cid: 'DeviceTimeAns', gpsSeconds: readUintLE(p, 0, 4), fraction256: p[4] }),
    encode: (c) => {
      const out = new Uint8Array(5);
      writeUintLE(out, 0, field(c.gpsSeconds, 0, 0xffffffff, 'gpsSeconds', c.cid), 4);
      out[4] = field(c.fraction256, 0, 255, 'fraction256', c.cid);
      return [...out];
    },
  }),
  spec({
    cid: 0x10,
    name: 'PingSlotInfoReq',
    direction: 'up',
    length: 1,
    decode: (p) => ({ cid: 'PingSlotInfoReq', periodicity: p[0] & 0x07 }),
    encode: (c) => [field(c.periodicity, 0, 7, 'periodicity', c.cid)],
  }),
  empty(0x10, 'PingSlotInfoAns', 'down'),
  spec({
    cid: 0x11,
    name: 'PingSlotChannelReq',
    direction: 'down',
    length: 4,
    decode: (p) => ({ cid: 'PingSlotChannelReq', frequencyHz: readFrequency(p, 0), dataRate: p[3] & 0x0f }),
    encode: (c) => [...frequencyBytes(c.frequencyHz, c.cid), field(c.dataRate, 0, 15, 'dataRate', c.cid)],
  }),
  spec({
    cid: 0x11,
    name: 'PingSlotChannelAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({
      cid: 'PingSlotChannelAns',
      dataRateOk: bit(p[0], 1),
      channelFrequencyOk: bit(p[0], 0),
    }),
    encode: (c) => [bits(c.dataRateOk, c.channelFrequencyOk)],
  }),
  empty(0x12, 'BeaconTimingReq', 'up'),
  spec({
    cid: 0x12,
    name: 'BeaconTimingAns',
    direction: 'down',
    length: 3,
    decode: (p) => ({ cid: 'BeaconTimingAns', delay: readUintLE(p, 0, 2), channel: p[2] }),
    encode: (c) => {
      const delay = field(c.delay, 0, 0xffff, 'delay', c.cid);
      return [delay & 0xff, delay >>> 8, field(c.channel, 0, 255, 'channel', c.cid)];
    },
  }),
  spec({
    cid: 0x13,
    name: 'BeaconFreqReq',
    direction: 'down',
    length: 3,
    decode: (p) => ({ cid: 'BeaconFreqReq', frequencyHz: readFrequency(p, 0) }),
    encode: (c) => frequencyBytes(c.frequencyHz, c.cid),
  }),
  spec({
    cid: 0x13,
    name: 'BeaconFreqAns',
    direction: 'up',
    length: 1,
    decode: (p) => ({ cid: 'BeaconFreqAns', beaconFrequencyOk: bit(p[0], 0) }),
    encode: (c) => [bits(c.beaconFrequencyOk)],
  }),
] as const;
