/**
 * The simulated device against a tiny test-only network side written with the
 * proto API: join, confirmed traffic both ways, ACKs, MAC commands and answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../proto/errors.js';
import {
  type DataFrame,
  decodePhy,
  decryptFrmPayload,
  deriveSessionKeys,
  encodeDataFrame,
  encodeJoinAccept,
  encodeMacCommands,
  fromHex,
  type MacCommand,
  parseMacCommands,
  reconstructFCnt,
  type SessionKeys,
  verifyDataMic,
  verifyJoinRequest,
} from '../proto/lorawan/index.js';
import { getRegion } from '../proto/regions/index.js';
import { SimulatedDevice } from './device.js';

const appKey = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();

/** The smallest network server that can talk to the device: one device, no radio. */
/** A non-default RX2 DR the tiny network announces, per region the tests use. */
const RX2_DR_IN_TEST: Record<string, number> = { EU868: 3, US915: 8 };

class TinyNetwork {
  keys: SessionKeys | undefined;
  devAddr = '26011f00';
  fCntUp: number | undefined;
  fCntDown = 0;
  constructor(readonly regionId: string) {}

  acceptJoin(phy: Uint8Array): Uint8Array {
    const frame = decodePhy(phy);
    if (frame.kind !== 'join-request' || !verifyJoinRequest(frame, appKey))
      throw new Error('bad join-request');
    const appNonce = 0x00abcd;
    this.keys = deriveSessionKeys(appKey, appNonce, '000013', frame.devNonce);
    this.fCntUp = undefined;
    this.fCntDown = 0;
    return encodeJoinAccept(
      {
        appNonce,
        netId: '000013',
        devAddr: this.devAddr,
        rx1DrOffset: 1,
        rx2DataRate: RX2_DR_IN_TEST[this.regionId] ?? 0,
        rxDelay: 2,
        cfList: getRegion(this.regionId).joinAcceptCfList(),
      },
      appKey,
    );
  }

  receive(phy: Uint8Array): { frame: DataFrame; fCnt32: number; payload: Uint8Array; mac: MacCommand[] } {
    const frame = decodePhy(phy);
    if (frame.kind !== 'data' || !this.keys) throw new Error('not a data frame');
    const fCnt32 = reconstructFCnt(this.fCntUp, frame.fCnt16);
    if (!verifyDataMic(frame, this.keys.nwkSKey, fCnt32)) throw new Error('bad MIC');
    this.fCntUp = fCnt32;
    const payload = decryptFrmPayload(
      frame,
      frame.fPort === 0 ? this.keys.nwkSKey : this.keys.appSKey,
      fCnt32,
    );
    const parsed = parseMacCommands(frame.fPort === 0 ? payload : frame.fOpts, 'up');
    expect(parsed.error).toBeUndefined();
    return { frame, fCnt32, payload, mac: parsed.commands };
  }

  send(opts: {
    confirmed?: boolean;
    ack?: boolean;
    mac?: MacCommand[];
    fPort?: number;
    payload?: Uint8Array;
  }): Uint8Array {
    if (!this.keys) throw new Error('no session');
    const macBytes = encodeMacCommands(opts.mac ?? [], 'down');
    const onPort0 = opts.fPort === 0;
    return encodeDataFrame(
      {
        mType: opts.confirmed ? 'ConfirmedDataDown' : 'UnconfirmedDataDown',
        devAddr: this.devAddr,
        fCnt32: this.fCntDown++,
        fCtrl: { ack: opts.ack ?? false },
        fOpts: onPort0 ? undefined : macBytes,
        fPort: opts.fPort,
        payload: onPort0 ? macBytes : opts.payload,
      },
      this.keys,
    );
  }
}

function otaaDevice(region = 'EU868', seed = 7) {
  return new SimulatedDevice({
    identity: { activation: 'otaa', devEui: '0004a30b001c0530', joinEui: '70b3d57ed0000000', appKey },
    region,
    seed,
  });
}

function joined(region = 'EU868') {
  const device = otaaDevice(region);
  const network = new TinyNetwork(region);
  const result = device.handleDownlink(network.acceptJoin(device.joinRequest()));
  expect(result).toMatchObject({
    kind: 'join-accept',
    devAddr: network.devAddr,
    rxDelaySeconds: 2,
    cfListApplied: true,
  });
  return { device, network };
}

describe('SimulatedDevice ↔ network round trip (EU868)', () => {
  it('joins: same session keys both sides, CFList channels and RX settings applied', () => {
    const { device, network } = joined();
    expect(device.joined).toBe(true);
    expect(device.sessionKeys).toEqual({ devAddr: network.devAddr, ...network.keys });
    expect(device.enabledChannels.map((c) => c.frequencyHz)).toEqual(
      getRegion('EU868').uplinkChannels.map((c) => c.frequencyHz),
    );
    expect(device.rxSettings).toEqual({
      rx1DrOffset: 1,
      rx2: { frequencyHz: 869_525_000, dr: 3 },
      rxDelaySeconds: 2,
    });
    expect(device.fCntUp).toBe(0);
  });

  it('exchanges confirmed data, ACKs, MAC commands and answers', () => {
    const { device, network } = joined();
    const up1 = network.receive(
      device.uplink({ fPort: 2, payload: Buffer.from('moisture 31%'), confirmed: true }),
    );
    expect(up1.frame.confirmed).toBe(true);
    expect(text(up1.payload)).toBe('moisture 31%');
    expect(up1.fCnt32).toBe(0);

    const down = network.send({
      confirmed: true,
      ack: true,
      fPort: 5,
      payload: Buffer.from('valve on'),
      mac: [
        { cid: 'LinkADRReq', dataRate: 3, txPower: 2, chMask: 0x00ff, chMaskCntl: 0, nbTrans: 2 },
        { cid: 'DevStatusReq' },
        { cid: 'RXTimingSetupReq', delay: 3 },
      ],
    });
    const result = device.handleDownlink(down, { snr: -5.4 });
    if (result.kind !== 'data') throw new Error(`expected data, got ${result.kind}`);
    expect(result).toMatchObject({ acked: true, confirmed: true, fPort: 5, fCnt32: 0 });
    expect(text(result.payload)).toBe('valve on');
    expect(device.dataRate).toBe(3);
    expect(device.nbTrans).toBe(2);
    expect(device.txPowerDbm).toBe(12);
    expect(device.rxSettings.rxDelaySeconds).toBe(3);

    const up2 = network.receive(device.uplink({ fPort: 2, payload: Buffer.from('x') }));
    expect(up2.frame.fCtrl.ack).toBe(true);
    expect(up2.fCnt32).toBe(1);
    expect(up2.mac).toEqual([
      { cid: 'RXTimingSetupAns' },
      { cid: 'LinkADRAns', powerAck: true, dataRateAck: true, channelMaskAck: true },
      { cid: 'DevStatusAns', battery: 254, margin: -5 },
    ]);

    // The sticky RXTimingSetupAns repeats until a downlink arrives; the ACK is owed once only.
    const up3 = network.receive(device.uplink({ fPort: 2, payload: Buffer.from('y') }));
    expect(up3.frame.fCtrl.ack).toBe(false);
    expect(up3.mac).toEqual([{ cid: 'RXTimingSetupAns' }]);
    const linkCheck = device.handleDownlink(
      network.send({ mac: [{ cid: 'LinkCheckAns', margin: 12, gwCnt: 1 }] }),
    );
    expect(linkCheck).toMatchObject({
      kind: 'data',
      acked: false,
      macCommands: [{ cid: 'LinkCheckAns', margin: 12, gwCnt: 1 }],
    });
    expect(device.lastLinkCheck).toEqual({ margin: 12, gwCnt: 1 });
    expect(network.receive(device.uplink({ fPort: 2, payload: Buffer.from('z') })).mac).toEqual([]);
  });

  it('answers port-0 MAC commands and refuses what the region forbids', () => {
    const { device, network } = joined();
    const result = device.handleDownlink(
      network.send({
        fPort: 0,
        mac: [
          { cid: 'NewChannelReq', chIndex: 8, frequencyHz: 868_800_000, minDr: 0, maxDr: 5 },
          { cid: 'NewChannelReq', chIndex: 1, frequencyHz: 868_800_000, minDr: 0, maxDr: 5 },
          { cid: 'DlChannelReq', chIndex: 8, frequencyHz: 869_100_000 },
          { cid: 'DutyCycleReq', maxDutyCycle: 4 },
          { cid: 'RXParamSetupReq', rx1DrOffset: 2, rx2DataRate: 0, frequencyHz: 869_525_000 },
          { cid: 'DeviceTimeAns', gpsSeconds: 1_400_000_000, fraction256: 64 },
        ],
      }),
    );
    if (result.kind !== 'data') throw new Error(result.kind);
    expect(result.answers).toEqual([
      { cid: 'DlChannelAns', uplinkFrequencyExists: true, channelFrequencyOk: true },
      { cid: 'RXParamSetupAns', rx1DrOffsetAck: true, rx2DataRateAck: true, channelAck: true },
      { cid: 'NewChannelAns', dataRateRangeOk: true, channelFrequencyOk: true },
      { cid: 'NewChannelAns', dataRateRangeOk: true, channelFrequencyOk: false },
      { cid: 'DutyCycleAns' },
    ]);
    expect(device.enabledChannels.map((c) => c.channel)).toContain(8);
    expect(device.maxDutyCycle).toBe(4);
    expect(device.lastDeviceTime).toEqual({ gpsSeconds: 1_400_000_000, fraction256: 64 });
    expect(device.receiveWindows({ frequencyHz: 868_800_000, dr: 5, channel: 8 }).rx1.frequencyHz).toBe(
      869_100_000,
    );
    // Five answers (2+2+2+2+1 = 9 bytes) fit in FOpts.
    expect(network.receive(device.uplink({ fPort: 3, payload: new Uint8Array([1]) })).mac).toHaveLength(5);

    const bad = device.handleDownlink(
      network.send({
        mac: [{ cid: 'LinkADRReq', dataRate: 7, txPower: 9, chMask: 0xff00, chMaskCntl: 0, nbTrans: 1 }],
      }),
    );
    expect(bad).toMatchObject({
      answers: [{ cid: 'LinkADRAns', powerAck: false, dataRateAck: false, channelMaskAck: false }],
    });
    expect(device.dataRate).toBe(5);
  });

  it('drops replays, foreign frames and bad MICs without throwing', () => {
    const { device, network } = joined();
    const down = network.send({ fPort: 1, payload: new Uint8Array([1]) });
    expect(device.handleDownlink(down).kind).toBe('data');
    expect(device.handleDownlink(down)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/replay/),
    });
    const tampered = network.send({ fPort: 1, payload: new Uint8Array([2]) });
    tampered[tampered.length - 1] ^= 1;
    expect(device.handleDownlink(tampered)).toMatchObject({ kind: 'ignored', reason: 'MIC does not verify' });
    expect(device.handleDownlink(new Uint8Array([0x60, 1, 2]))).toMatchObject({ kind: 'ignored' });
    expect(device.handleDownlink(device.uplink({ fPort: 1, payload: new Uint8Array(0) }))).toMatchObject({
      kind: 'ignored',
    });
    expect(device.fCntDown).toBe(0);
  });

  it('retransmits an unacknowledged confirmed uplink with the same FCnt and bytes', () => {
    const { device, network } = joined();
    const first = device.uplink({ fPort: 2, payload: new Uint8Array([9]), confirmed: true });
    const again = device.retransmitLast();
    expect(again).toEqual(first);
    expect(network.receive(again).fCnt32).toBe(0);
    expect(device.fCntUp).toBe(1);
    device.handleDownlink(network.send({ ack: true }));
    expect(() => device.retransmitLast()).toThrow(/no unacknowledged confirmed uplink/);
  });

  it('uses fresh, seed-reproducible DevNonces and never repeats one', () => {
    const a = otaaDevice('EU868', 99);
    const b = otaaDevice('EU868', 99);
    const nonces = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const fa = decodePhy(a.joinRequest());
      const fb = decodePhy(b.joinRequest());
      if (fa.kind !== 'join-request' || fb.kind !== 'join-request') throw new Error('not a join-request');
      expect(fa.devNonce).toBe(fb.devNonce);
      nonces.add(fa.devNonce);
    }
    expect(nonces.size).toBe(2000);
  });

  it('refuses to send before joining, and oversize payloads', () => {
    const device = otaaDevice();
    try {
      device.uplink({ fPort: 1, payload: new Uint8Array(1) });
      throw new Error('sent');
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.LorawanDeviceState)).toBe(true);
    }
    const { device: joinedDevice } = joined();
    expect(() => joinedDevice.uplink({ fPort: 1, payload: new Uint8Array(243) })).toThrow(
      /exceeds 242 at DR5/,
    );
    expect(() => joinedDevice.uplink({ fPort: 0, payload: new Uint8Array(1) })).toThrow(
      /fPort must be 1..223/,
    );
  });
});

describe('SimulatedDevice with ABP', () => {
  it('carries 32-bit counters across the 16-bit rollover', () => {
    const keys = {
      nwkSKey: fromHex('44024241ed4ce9a68c6a8bc055233fd3'),
      appSKey: fromHex('ec925802ae430ca77fd3dd73cb2cc588'),
    };
    const device = new SimulatedDevice({
      identity: { activation: 'abp', devAddr: '26011f00', ...keys },
      region: 'EU868',
      fCntUp: 0xffff,
    });
    expect(device.joined).toBe(true);
    expect(device.enabledChannels).toHaveLength(8);
    const network = new TinyNetwork('EU868');
    network.keys = keys;
    network.fCntUp = 0xfffe;
    expect(network.receive(device.uplink({ fPort: 1, payload: new Uint8Array([1]) })).fCnt32).toBe(0xffff);
    const next = network.receive(device.uplink({ fPort: 1, payload: new Uint8Array([2]) }));
    expect(next.frame.fCnt16).toBe(0);
    expect(next.fCnt32).toBe(0x10000);
    expect([...next.payload]).toEqual([2]);
    const bad = {
      identity: { activation: 'abp' as const, devAddr: '26011f00', ...keys },
      region: 'EU868',
      fCntUp: -1,
    };
    expect(() => new SimulatedDevice(bad)).toThrow(/fCntUp must be a 32-bit counter/);
  });
});

describe('SimulatedDevice in US915 sub-band 2', () => {
  it('joins with the ChMask CFList and uses channels 8-15 + 65', () => {
    const { device, network } = joined('US915');
    expect(device.enabledChannels.map((c) => c.channel)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 65]);
    for (let i = 0; i < 20; i++) {
      const radio = device.nextUplinkRadio();
      expect(radio.frequencyHz).toBeGreaterThanOrEqual(903_900_000);
      expect(radio.frequencyHz).toBeLessThanOrEqual(905_300_000);
    }
    expect(device.receiveWindows({ frequencyHz: 903_900_000, dr: 3 })).toEqual({
      rx1: { delayMs: 2000, frequencyHz: 923_300_000, dr: 12 },
      rx2: { delayMs: 3000, frequencyHz: 923_300_000, dr: 8 },
    });
    const masks = getRegion('US915').linkAdrChannelMask();
    const result = device.handleDownlink(
      network.send({
        mac: masks.map((m) => ({ cid: 'LinkADRReq', dataRate: 2, txPower: 5, nbTrans: 1, ...m })),
      }),
    );
    const ack = { cid: 'LinkADRAns', powerAck: true, dataRateAck: true, channelMaskAck: true };
    expect(result).toMatchObject({ answers: [ack, ack] });
    expect(device.dataRate).toBe(2);
    expect(device.txPowerDbm).toBe(20);
    expect(network.receive(device.uplink({ fPort: 1, payload: new Uint8Array(3) })).mac).toEqual([ack, ack]);
  });
});

describe('SimulatedDevice on untrusted downlinks', () => {
  it('never throws on random bytes', () => {
    const { device } = joined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(['ignored', 'data', 'join-accept']).toContain(device.handleDownlink(bytes).kind);
      }),
      { numRuns: 10_000 },
    );
  });
});
