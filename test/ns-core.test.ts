/**
 * The network server end to end with a fake radio: devices built on
 * proto/lorawan join and talk, and every timing, counter and rejection rule
 * of LoRaWAN 1.0.x Class A is checked on the frames that go out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeRadio, rxMeta } from '../kernel/ns/fake-radio.test-helpers.js';
import { FileNetworkRepository } from '../kernel/ns/file-repository.js';
import { MemoryNetworkRepository } from '../kernel/ns/memory-repository.test-helpers.js';
import { NetworkServer, type NetworkServerOptions } from '../kernel/ns/network-server.js';
import { addDevice } from '../kernel/ns/registry.js';
import type { Rejection } from '../kernel/ns/rejection.js';
import type { NetworkRepository } from '../kernel/ns/repository.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import type {
  AckEvent,
  JoinEvent,
  ProcessedUplink,
  StatusEvent,
  TxAckEvent,
} from '../kernel/ns/uplink-types.js';
import { type LogLine, recordingLogger } from '../proto/log.test-helpers.js';
import { encodeMacCommands } from '../proto/lorawan/index.js';
import type { RxMetadata } from '../proto/radio.js';

const OTAA = {
  devEui: '0102030405060708',
  joinEui: '70b3d57ed0000000',
  appKey: '2b7e151628aed2a6abf7158809cf4f3c',
};
const ABP = {
  devEui: '1111111111111111',
  devAddr: '26011bda',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};

class Harness {
  readonly radio = new FakeRadio();
  readonly ups: ProcessedUplink[] = [];
  readonly joins: JoinEvent[] = [];
  readonly rejected: Rejection[] = [];
  readonly acks: AckEvent[] = [];
  readonly txacks: TxAckEvent[] = [];
  readonly statuses: StatusEvent[] = [];
  readonly logs: LogLine[] = [];
  ns!: NetworkServer;

  async start(
    repository: NetworkRepository,
    options: Partial<NetworkServerOptions> = {},
  ): Promise<NetworkServer> {
    this.ns = new NetworkServer({
      repository,
      radios: [this.radio],
      dedupWindowMs: 60_000,
      devStatusIntervalMs: 0,
      logger: recordingLogger(this.logs),
      ...options,
    });
    this.ns.on('up', (u) => this.ups.push(u));
    this.ns.on('join', (j) => this.joins.push(j));
    this.ns.on('rejected', (r) => this.rejected.push(r));
    this.ns.on('ack', (a) => this.acks.push(a));
    this.ns.on('txack', (t) => this.txacks.push(t));
    this.ns.on('status', (s) => this.statuses.push(s));
    await this.ns.start();
    return this.ns;
  }

  async send(phyPayload: Uint8Array, rx: Partial<RxMetadata> = {}): Promise<void> {
    this.radio.receive({ phyPayload, rx: rxMeta(rx), receivedAtMs: Date.now() });
    await this.ns.settle();
  }

  /** Joins an OTAA device; returns the device with its session. */
  async join(device: TestDevice, rx: Partial<RxMetadata> = {}): Promise<TestDevice> {
    const before = this.radio.sent.length;
    await this.send(device.joinRequest(), rx);
    const accept = this.radio.sent[this.radio.sent.length - 1];
    if (!accept || this.radio.sent.length === before) throw new Error('no join accept sent');
    device.acceptJoin(accept.phyPayload);
    return device;
  }
}

let h: Harness;
let repo: NetworkRepository;

/** The ABP device was provisioned with the full EU868 plan, so no NewChannelReq is due. */
async function abpKnowsAllChannels(): Promise<void> {
  const session = await repo.getSession(ABP.devEui);
  if (!session) throw new Error('no ABP session');
  const extraChannels = {
    '3': 867_100_000,
    '4': 867_300_000,
    '5': 867_500_000,
    '6': 867_700_000,
    '7': 867_900_000,
  };
  await repo.putSession({ ...session, extraChannels });
}

beforeEach(async () => {
  h = new Harness();
  repo = new MemoryNetworkRepository();
  await addDevice(repo, {
    devEui: OTAA.devEui,
    name: 'probe',
    applicationId: 'farm',
    activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
  });
  await addDevice(repo, {
    devEui: ABP.devEui,
    name: 'abp',
    applicationId: 'farm',
    activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
  });
});

afterEach(async () => {
  await h.ns?.stop();
});

describe('OTAA join', () => {
  it('answers a join request at tmst + 5 s in RX1 with an accept the device can decrypt', async () => {
    await h.start(repo);
    const device = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    await h.send(device.joinRequest(), { tmst: 2_000_000 });
    expect(h.radio.sent).toHaveLength(1);
    const tx = h.radio.sent[0];
    expect(tx?.tmst).toBe(7_000_000);
    expect(tx?.frequencyHz).toBe(868_100_000);
    expect(tx?.dataRate).toEqual({ modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 });
    expect(tx?.invertPolarity).toBe(true);
    const fields = device.acceptJoin(tx?.phyPayload ?? new Uint8Array());
    expect(fields.netId).toBe('000000');
    expect(fields.cfList).toHaveLength(16);
    // NetID 000000 is type 0 with NwkID 0: the DevAddr's top 7 bits are zero.
    expect(Number.parseInt(fields.devAddr, 16) >>> 25).toBe(0);
    expect(h.joins).toHaveLength(1);
    expect(h.joins[0]?.devAddr).toBe(fields.devAddr);
    const session = await repo.getSession(OTAA.devEui);
    expect(session?.devAddr).toBe(fields.devAddr);
    expect(Object.keys(session?.extraChannels ?? {})).toEqual(['3', '4', '5', '6', '7']);
  });

  it('retries the join accept in RX2 at tmst + 6 s on 869.525 MHz DR0 after a TX error', async () => {
    await h.start(repo);
    h.radio.script.push('TOO_LATE');
    const device = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    await h.send(device.joinRequest(), { tmst: 2_000_000 });
    expect(h.radio.sent.map((t) => t.tmst)).toEqual([7_000_000, 8_000_000]);
    const rx2 = h.radio.sent[1];
    expect(rx2?.frequencyHz).toBe(869_525_000);
    expect(rx2?.dataRate).toEqual({ modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 });
    expect(h.txacks.map((t) => [t.window, t.status])).toEqual([
      ['rx1', 'TOO_LATE'],
      ['rx2', 'OK'],
    ]);
    expect(() => device.acceptJoin(rx2?.phyPayload ?? new Uint8Array())).not.toThrow();
  });

  it('refuses a reused DevNonce once: counted, logged, no accept, session untouched', async () => {
    await h.start(repo);
    const device = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    const request = device.joinRequest(0x2222);
    await h.send(request);
    const session = await repo.getSession(OTAA.devEui);
    await h.send(request, { tmst: 9_000_000 });
    expect(h.radio.sent).toHaveLength(1);
    expect(h.rejected.map((r) => r.reason)).toEqual(['devnonce_reused']);
    expect(h.ns.counters().rejected_devnonce_reused).toBe(1);
    expect(h.logs.filter((l) => l.level === 'warn' && l.fields.reason === 'devnonce_reused')).toHaveLength(1);
    expect(await repo.getSession(OTAA.devEui)).toEqual(session);
  });
});

describe('data uplinks', () => {
  it('ACKs a confirmed uplink at tmst + 1 s in RX1 and advances FCntDown on TX OK', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    await h.send(device.uplink({ confirmed: true, payload: new Uint8Array([1, 2, 3]) }), {
      tmst: 10_000_000,
    });
    expect(h.ups).toHaveLength(1);
    expect(h.ups[0]?.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(h.ups[0]?.confirmed).toBe(true);
    const tx = h.radio.sent[1];
    expect(tx?.tmst).toBe(11_000_000);
    expect(tx?.frequencyHz).toBe(868_100_000);
    const down = device.readDownlink(tx?.phyPayload ?? new Uint8Array());
    expect(down.frame.fCtrl.ack).toBe(true);
    expect(down.fCnt).toBe(0);
    expect((await repo.getSession(OTAA.devEui))?.nFCntDown).toBe(1);
  });

  it('falls back to RX2 at tmst + 2 s and keeps FCntDown when no window is acknowledged', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    h.radio.script.push('TOO_LATE', 'COLLISION_PACKET');
    await h.send(device.uplink({ confirmed: true }), { tmst: 10_000_000 });
    expect(h.radio.sent.slice(1).map((t) => [t.tmst, t.frequencyHz])).toEqual([
      [11_000_000, 868_100_000],
      [12_000_000, 869_525_000],
    ]);
    expect((await repo.getSession(OTAA.devEui))?.nFCntDown).toBe(0);
    expect(h.ns.counters().downlinks_failed).toBe(1);

    h.radio.script.push('TOO_LATE');
    await h.send(device.uplink({ confirmed: true }), { tmst: 20_000_000 });
    const rx2 = h.radio.sent[h.radio.sent.length - 1];
    expect(rx2?.tmst).toBe(22_000_000);
    expect(device.readDownlink(rx2?.phyPayload ?? new Uint8Array()).fCnt).toBe(0);
    expect((await repo.getSession(OTAA.devEui))?.nFCntDown).toBe(1);
  });

  it('recognises a retransmission: no second up event, but the confirmed frame is ACKed again', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    const frame = device.uplink({ confirmed: true, payload: new Uint8Array([7]) });
    await h.send(frame);
    await h.send(frame, { tmst: 5_000_000 });
    expect(h.ups).toHaveLength(1);
    expect(h.ns.counters().retransmissions).toBe(1);
    const acks = h.radio.sent.slice(1).map((t) => device.readDownlink(t.phyPayload));
    expect(acks.map((d) => [d.frame.fCtrl.ack, d.fCnt])).toEqual([
      [true, 0],
      [true, 1],
    ]);
  });

  it('rejects a replayed older frame once and changes nothing', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    const old = device.uplink({ payload: new Uint8Array([1]) });
    await h.send(old);
    await h.send(device.uplink({ payload: new Uint8Array([2]) }));
    const session = await repo.getSession(OTAA.devEui);
    const sent = h.radio.sent.length;
    await h.send(old, { tmst: 77 });
    expect(h.ups).toHaveLength(2);
    expect(h.rejected.map((r) => r.reason)).toEqual(['replay']);
    expect(h.ns.counters().rejected_replay).toBe(1);
    expect(h.logs.filter((l) => l.fields.reason === 'replay')).toHaveLength(1);
    expect(h.radio.sent).toHaveLength(sent);
    expect(await repo.getSession(OTAA.devEui)).toEqual(session);
  });

  it('rejects a frame with a wrong MIC and a truncated frame, each once', async () => {
    await h.start(repo);
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const good = device.uplink({ payload: new Uint8Array([1, 2]) });
    const forged = new Uint8Array(good);
    forged[forged.length - 1] ^= 0xff;
    await h.send(forged);
    await h.send(good.subarray(0, 9));
    expect(h.rejected.map((r) => r.reason)).toEqual(['bad_mic', 'malformed']);
    expect(h.ns.counters()).toMatchObject({ rejected_bad_mic: 1, rejected_malformed: 1 });
    expect(h.ups).toHaveLength(0);
    expect(h.radio.sent).toHaveLength(0);
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBeUndefined();
    await h.send(good);
    expect(h.ups).toHaveLength(1);
  });

  it('merges three copies of one frame into one uplink with three receivers, best SNR first', async () => {
    await h.start(repo);
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const frame = device.uplink({ payload: new Uint8Array([9]) });
    const copies = [
      { gatewayEui: '0000000000000001', snr: -3 },
      { gatewayEui: '0000000000000002', snr: 7.5 },
      { gatewayEui: '0000000000000003', snr: 2 },
    ];
    for (const c of copies) h.radio.receive({ phyPayload: frame, rx: rxMeta(c), receivedAtMs: Date.now() });
    await h.ns.settle();
    expect(h.ups).toHaveLength(1);
    expect(h.ups[0]?.rxInfo.map((r) => r.gatewayEui)).toEqual([
      '0000000000000002',
      '0000000000000003',
      '0000000000000001',
    ]);
  });

  it('reconstructs the 32-bit FCnt across the 0xFFFF rollover', async () => {
    await h.start(repo);
    const session = await repo.getSession(ABP.devEui);
    if (!session) throw new Error('no ABP session');
    await repo.putSession({ ...session, fCntUp: 0xfffe });
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await h.send(device.uplink({ fCnt: 0xffff, payload: new Uint8Array([1]) }));
    await h.send(device.uplink({ payload: new Uint8Array([2]) }));
    await h.send(device.uplink({ payload: new Uint8Array([3]) }));
    expect(h.ups.map((u) => u.fCnt)).toEqual([0xffff, 0x10000, 0x10001]);
    expect(h.ups[2]?.data).toEqual(new Uint8Array([3]));
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(0x10001);
  });

  it('wraps the RX1 timestamp around the u32 concentrator counter', async () => {
    await h.start(repo);
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    h.radio.script.push('TOO_EARLY');
    await h.send(device.uplink({ confirmed: true }), { tmst: 0xffffffff - 499_999 });
    expect(h.radio.sent.map((t) => t.tmst)).toEqual([500_000, 1_500_000]);
  });

  it('a failing store withholds the up event and the counter, so a retransmission is stored later', async () => {
    let failures = 1;
    const stored: number[] = [];
    await h.start(repo, {
      beforePublish: async (u) => {
        if (failures-- > 0) throw new Error('disk full');
        stored.push(u.fCnt);
      },
    });
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const frame = device.uplink({ confirmed: true, payload: new Uint8Array([5]) });
    await h.send(frame);
    expect(h.ups).toHaveLength(0);
    expect(h.ns.counters().rejected_store_failed).toBe(1);
    expect(h.radio.sent).toHaveLength(0);
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBeUndefined();
    await h.send(frame);
    expect(stored).toEqual([0]);
    expect(h.ups).toHaveLength(1);
  });

  it('turns a throwing codec into an uplink with errors, not a rejection', async () => {
    await h.start(repo, {
      decodePayload: async () => {
        throw new Error('bad script');
      },
    });
    await addDevice(repo, {
      devEui: ABP.devEui,
      name: 'abp',
      applicationId: 'farm',
      codec: { kind: 'cayenne-lpp' },
      activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
    });
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await h.send(device.uplink({ payload: new Uint8Array([1]) }));
    expect(h.rejected).toHaveLength(0);
    expect(h.ups[0]?.errors).toEqual(['codec failed: bad script']);
  });

  it('marks time as GPS when a receiver had GPS time, else with the host time source', async () => {
    await h.start(repo, { hostTimeSource: () => 'ntp' });
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await h.send(device.uplink({ payload: new Uint8Array([1]) }), { time: '2026-03-01T10:00:00.000Z' });
    await h.send(device.uplink({ payload: new Uint8Array([2]) }));
    expect(h.ups.map((u) => u.timeSource)).toEqual(['gps', 'ntp']);
    expect(h.ups[0]?.time).toBe('2026-03-01T10:00:00.000Z');
  });
});

describe('MAC commands and ADR', () => {
  it('answers LinkCheckReq with the margin over the DR floor and the gateway count', async () => {
    await h.start(repo);
    await abpKnowsAllChannels();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const frame = device.uplink({ fOpts: encodeMacCommands([{ cid: 'LinkCheckReq' }], 'up') });
    h.radio.receive({
      phyPayload: frame,
      rx: rxMeta({ gatewayEui: '0000000000000001', snr: 5 }),
      receivedAtMs: Date.now(),
    });
    h.radio.receive({
      phyPayload: frame,
      rx: rxMeta({ gatewayEui: '0000000000000002', snr: -1 }),
      receivedAtMs: Date.now(),
    });
    await h.ns.settle();
    const down = device.readDownlink(h.radio.sent[0]?.phyPayload ?? new Uint8Array());
    // SF7 needs -7.5 dB: 5 - (-7.5) = 12.5 → 12 dB.
    expect(down.mac).toEqual([{ cid: 'LinkCheckAns', margin: 12, gwCnt: 2 }]);
    expect(h.radio.sent[0]?.gatewayEui).toBe('0000000000000001');
  });

  it('answers DeviceTimeReq with GPS seconds and 1/256 fractions', async () => {
    await h.start(repo);
    await abpKnowsAllChannels();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const frame = device.uplink({ fOpts: encodeMacCommands([{ cid: 'DeviceTimeReq' }], 'up') });
    await h.send(frame, { time: '2026-01-01T00:00:00.500Z' });
    const down = device.readDownlink(h.radio.sent[0]?.phyPayload ?? new Uint8Array());
    const gpsSeconds = (Date.parse('2026-01-01T00:00:00Z') - Date.parse('1980-01-06T00:00:00Z')) / 1000 + 18;
    expect(down.mac).toEqual([{ cid: 'DeviceTimeAns', gpsSeconds, fraction256: 128 }]);
  });

  it('raises the data rate after 20 good uplinks and applies it when the device accepts', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    const sf12 = {
      dataRate: { modulation: 'LORA' as const, spreadingFactor: 12, bandwidthKHz: 125 },
      snr: 5,
    };
    for (let i = 0; i < 19; i++)
      await h.send(device.uplink({ adr: true, payload: new Uint8Array([i]) }), sf12);
    expect(h.radio.sent).toHaveLength(1); // only the join accept so far
    await h.send(device.uplink({ adr: true, payload: new Uint8Array([19]) }), sf12);
    const down = device.readDownlink(h.radio.sent[1]?.phyPayload ?? new Uint8Array());
    // 5 - (-20) - 10 = 15 dB → 5 steps: DR0 → DR5 (SF7).
    expect(down.mac).toEqual([
      { cid: 'LinkADRReq', dataRate: 5, txPower: 0, chMask: 0x00ff, chMaskCntl: 0, nbTrans: 1 },
    ]);
    expect(h.radio.sent[1]?.dataRate).toEqual(sf12.dataRate);
    const answer = encodeMacCommands(
      [{ cid: 'LinkADRAns', powerAck: true, dataRateAck: true, channelMaskAck: true }],
      'up',
    );
    await h.send(device.uplink({ adr: true, fOpts: answer }), {
      dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
      snr: 5,
    });
    const session = await repo.getSession(OTAA.devEui);
    expect(session?.dr).toBe(5);
    expect(session?.pendingMac).toEqual([]);
  });

  it('asks for DevStatus and emits the answer as a status event', async () => {
    await h.start(repo, { devStatusIntervalMs: 3_600_000 });
    await abpKnowsAllChannels();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await h.send(device.uplink({ payload: new Uint8Array([1]) }));
    expect(device.readDownlink(h.radio.sent[0]?.phyPayload ?? new Uint8Array()).mac).toEqual([
      { cid: 'DevStatusReq' },
    ]);
    await h.send(
      device.uplink({ fOpts: encodeMacCommands([{ cid: 'DevStatusAns', battery: 200, margin: 7 }], 'up') }),
    );
    expect(h.statuses.map((s) => [s.battery, s.margin])).toEqual([[200, 7]]);
    expect(h.radio.sent).toHaveLength(1); // not asked again within the hour
  });

  it('sends RXParamSetupReq and RXTimingSetupReq when the ABP device differs from the configured settings', async () => {
    await h.start(repo, { sessionParameters: { EU868: { rx2Dr: 3, rxDelay: 2 } } });
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await h.send(device.uplink({ payload: new Uint8Array([1]) }));
    const cids = device.readDownlink(h.radio.sent[0]?.phyPayload ?? new Uint8Array()).mac.map((m) => m.cid);
    expect(cids).toEqual([
      'RXParamSetupReq',
      'RXTimingSetupReq',
      'NewChannelReq',
      'NewChannelReq',
      'NewChannelReq',
      'NewChannelReq',
      'NewChannelReq',
    ]);
    // More than 15 bytes of MAC commands: they travel on FPort 0.
    expect(device.readDownlink(h.radio.sent[0]?.phyPayload ?? new Uint8Array()).frame.fPort).toBe(0);
    const answers = encodeMacCommands(
      [
        { cid: 'RXParamSetupAns', rx1DrOffsetAck: true, rx2DataRateAck: true, channelAck: true },
        { cid: 'RXTimingSetupAns' },
      ],
      'up',
    );
    await h.send(device.uplink({ fOpts: answers }), { tmst: 3_000_000 });
    const session = await repo.getSession(ABP.devEui);
    expect([session?.rx2Dr, session?.rxDelay]).toEqual([3, 2]);
    // The next answer comes with the new RX1 delay of 2 s.
    expect(h.radio.sent[h.radio.sent.length - 1]?.tmst).toBe(5_000_000);
  });
});

describe('US915', () => {
  it('joins on sub-band 2 (RX1 923.3 + 0.6 MHz × ch%8) and restricts the channel mask by LinkADRReq', async () => {
    const us = { devEui: '0a0b0c0d0e0f1011', joinEui: OTAA.joinEui, appKey: OTAA.appKey };
    await addDevice(repo, {
      devEui: us.devEui,
      name: 'us',
      applicationId: 'farm',
      regionId: 'US915',
      activation: { mode: 'otaa', joinEui: us.joinEui, appKey: us.appKey },
    });
    await h.start(repo);
    const sf7 = { modulation: 'LORA' as const, spreadingFactor: 7, bandwidthKHz: 125 };
    // Channel 9 = 902.3 + 0.2 × 9 = 904.1 MHz, DR3 (SF7).
    const rx = { frequencyHz: 904_100_000, dataRate: sf7, tmst: 1_000_000 };
    const device = await h.join(new TestDevice(us.devEui, us.joinEui, us.appKey), rx);
    expect([h.radio.sent[0]?.frequencyHz, h.radio.sent[0]?.dataRate]).toEqual([
      923_900_000,
      { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 500 },
    ]);
    await h.send(device.uplink({ payload: new Uint8Array([1]) }), rx);
    const down = device.readDownlink(h.radio.sent[1]?.phyPayload ?? new Uint8Array());
    expect(down.mac).toEqual([
      { cid: 'LinkADRReq', dataRate: 3, txPower: 0, chMask: 0x0002, chMaskCntl: 7, nbTrans: 1 },
      { cid: 'LinkADRReq', dataRate: 3, txPower: 0, chMask: 0xff00, chMaskCntl: 0, nbTrans: 1 },
    ]);
    const ans = { cid: 'LinkADRAns' as const, powerAck: true, dataRateAck: true, channelMaskAck: true };
    await h.send(device.uplink({ fOpts: encodeMacCommands([ans, ans], 'up') }), rx);
    expect((await repo.getSession(us.devEui))?.channelMaskAcked).toBe(true);
    expect(h.radio.sent).toHaveLength(2); // nothing more to say
  });
});

describe('application downlinks', () => {
  it('delivers queued payloads one per uplink with FPending, and reports the ACK of a confirmed one', async () => {
    await h.start(repo);
    const device = await h.join(new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey));
    const first = await h.ns.enqueueDownlink(OTAA.devEui, {
      fPort: 10,
      confirmed: true,
      data: new Uint8Array([0xaa]),
    });
    await h.ns.enqueueDownlink(OTAA.devEui, { fPort: 11, confirmed: false, data: new Uint8Array([0xbb]) });
    await h.send(device.uplink({ payload: new Uint8Array([1]) }));
    const d1 = device.readDownlink(h.radio.sent[1]?.phyPayload ?? new Uint8Array());
    expect([d1.frame.fPort, [...d1.payload], d1.frame.fCtrl.fPending, d1.frame.mType]).toEqual([
      10,
      [0xaa],
      true,
      'ConfirmedDataDown',
    ]);
    expect(h.txacks[h.txacks.length - 1]).toMatchObject({ downlinkId: first, status: 'OK', window: 'rx1' });
    await h.send(device.uplink({ ack: true, payload: new Uint8Array([2]) }));
    expect(h.acks).toEqual([expect.objectContaining({ downlinkId: first, acknowledged: true, fCntDown: 0 })]);
    const d2 = device.readDownlink(h.radio.sent[2]?.phyPayload ?? new Uint8Array());
    expect([d2.frame.fPort, [...d2.payload], d2.frame.fCtrl.fPending, d2.fCnt]).toEqual([
      11,
      [0xbb],
      false,
      1,
    ]);
  });

  it('refuses to queue for an unknown device or FPort 0', async () => {
    await h.start(repo);
    await expect(
      h.ns.enqueueDownlink('ffffffffffffffff', { fPort: 1, confirmed: false, data: new Uint8Array(1) }),
    ).rejects.toThrow(/no device/);
    await expect(
      h.ns.enqueueDownlink(OTAA.devEui, { fPort: 0, confirmed: false, data: new Uint8Array(1) }),
    ).rejects.toThrow(/fPort/);
  });
});

describe('restart with the file repository', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maverick-ns-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps devices, sessions, counters and DevNonces across a restart', async () => {
    const path = join(dir, 'network.json');
    const fileRepo = await FileNetworkRepository.open(path);
    await addDevice(fileRepo, {
      devEui: OTAA.devEui,
      name: 'probe',
      applicationId: 'farm',
      activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
    });
    await h.start(fileRepo);
    const device = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    const joinRequest = device.joinRequest(0x4242);
    await h.send(joinRequest);
    device.acceptJoin(h.radio.sent[0]?.phyPayload ?? new Uint8Array());
    const old = device.uplink({ payload: new Uint8Array([1]) });
    await h.send(old);
    await h.send(device.uplink({ confirmed: true, payload: new Uint8Array([2]) }));
    await h.ns.stop();
    await fileRepo.close();

    const reopened = await FileNetworkRepository.open(path);
    const h2 = new Harness();
    await h2.start(reopened);
    try {
      await h2.send(old);
      await h2.send(joinRequest);
      await h2.send(device.uplink({ confirmed: true, payload: new Uint8Array([3]) }));
      expect(h2.rejected.map((r) => r.reason)).toEqual(['replay', 'devnonce_reused']);
      expect(h2.ups.map((u) => u.fCnt)).toEqual([2]);
      // The downlink counter carried over too: the second confirmed ACK uses FCntDown 1.
      expect(device.readDownlink(h2.radio.sent[0]?.phyPayload ?? new Uint8Array()).fCnt).toBe(1);
    } finally {
      await h2.ns.stop();
      await reopened.close();
    }
  });
});
