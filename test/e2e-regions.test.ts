/**
 * Every channel plan end to end over real UDP on loopback (issue 12): a
 * simulated device joins (OTAA) through the packet-forwarder emulator and the
 * Semtech UDP backend, sends a confirmed uplink with LinkCheckReq answered in
 * RX1, then one whose RX1 the forwarder refuses (TOO_LATE) answered in RX2.
 * The forwarder side checks each downlink's frequency, data rate and timing
 * against the plan, with the values typed in here from RP002-1.0.4 (not read
 * from proto/regions). US915 and AU915 devices come with all 72 channels on and
 * must end up on sub-band 2 by the network's channel mask; AS923/AU915 devices
 * get the plan's TxParamSetupReq.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { MemoryNetworkRepository } from '../kernel/ns/memory-repository.test-helpers.js';
import { NetworkServer } from '../kernel/ns/network-server.js';
import { addDevice } from '../kernel/ns/registry.js';
import type { DataRate } from '../proto/radio.js';
import { getRegion, type PlanId } from '../proto/regions/index.js';
import type { Txpk } from '../proto/semtech-udp/index.js';
import { SimulatedDevice } from '../simulator/device.js';
import { type ForwarderDownlink, PacketForwarderEmulator } from '../simulator/packet-forwarder.js';

const APP_KEY = '2b7e151628aed2a6abf7158809cf4f3c';
const JOIN_EUI = '70b3d57ed0000000';
const DEV_EUI = '00000000000000a1';
const GATEWAY = 'aa555a00000000c1';

const lora = (spreadingFactor: number, bandwidthKHz: number): DataRate => ({
  modulation: 'LORA',
  spreadingFactor,
  bandwidthKHz,
});

interface PlanFacts {
  /** RX1 frequency for an uplink on `hz` (RP002 "RX1 channel" rule of the plan). */
  rx1Hz: (hz: number) => number;
  /** RX1 data rate for the device's starting uplink DR at RX1DROffset 0 (the plan's RX1 DR table). */
  rx1: DataRate;
  /** RX2 default frequency and data rate, and M (largest MACPayload) there from the plan's payload table. */
  rx2: { hz: number; dataRate: DataRate; maxMacPayload: number };
  /** Sub-band 2 channels (fixed plans). */
  subBand2?: number[];
}

const sameFrequency = (hz: number) => hz;
/** RP002-1.0.4 §2.5.7 / §2.8.7: downstream channel = upstream channel mod 8, at 923.3 + 0.6 n MHz. */
const fixedRx1 = (base125: number, base500: number) => (hz: number) => {
  const n500 = (hz - base500) / 1_600_000;
  const ch = Number.isInteger(n500) ? 64 + n500 : (hz - base125) / 200_000;
  return 923_300_000 + (ch % 8) * 600_000;
};

const PLANS: Record<PlanId, PlanFacts> = {
  EU868: {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 869_525_000, dataRate: lora(12, 125), maxMacPayload: 59 },
  },
  US915: {
    rx1Hz: fixedRx1(902_300_000, 903_000_000),
    rx1: lora(7, 500), // uplink DR3 -> DR13
    rx2: { hz: 923_300_000, dataRate: lora(12, 500), maxMacPayload: 61 },
    subBand2: [8, 9, 10, 11, 12, 13, 14, 15, 65],
  },
  AU915: {
    rx1Hz: fixedRx1(915_200_000, 915_900_000),
    rx1: lora(7, 500), // uplink DR5 -> DR13
    rx2: { hz: 923_300_000, dataRate: lora(12, 500), maxMacPayload: 61 },
    subBand2: [8, 9, 10, 11, 12, 13, 14, 15, 65],
  },
  'AS923-1': {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 923_200_000, dataRate: lora(10, 125), maxMacPayload: 19 },
  },
  'AS923-2': {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 921_400_000, dataRate: lora(10, 125), maxMacPayload: 19 },
  },
  'AS923-3': {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 916_600_000, dataRate: lora(10, 125), maxMacPayload: 19 },
  },
  'AS923-4': {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 917_300_000, dataRate: lora(10, 125), maxMacPayload: 19 },
  },
  IN865: {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 866_550_000, dataRate: lora(10, 125), maxMacPayload: 59 },
  },
  KR920: {
    rx1Hz: sameFrequency,
    rx1: lora(7, 125),
    rx2: { hz: 921_900_000, dataRate: lora(12, 125), maxMacPayload: 59 },
  },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

async function field(plan: PlanId) {
  const repository = new MemoryNetworkRepository();
  await addDevice(repository, {
    devEui: DEV_EUI,
    name: 'probe',
    applicationId: 'farm',
    regionId: plan,
    activation: { mode: 'otaa', joinEui: JOIN_EUI, appKey: APP_KEY },
  });
  const backend = new SemtechUdpBackend({ host: '127.0.0.1', port: 0, txAckTimeoutMs: 5_000 });
  await backend.start();
  cleanups.push(() => backend.stop());
  const server = new NetworkServer({ repository, radios: [backend], dedupWindowMs: 60_000 });
  await server.start();
  cleanups.push(() => server.stop());
  const refuse = new Set<number>();
  const emulator = new PacketForwarderEmulator({
    port: backend.address().port,
    gatewayEui: GATEWAY,
    keepAliveMs: 60_000,
    txAckFor: (txpk: Txpk) => (txpk.tmst !== undefined && refuse.has(txpk.tmst) ? 'TOO_LATE' : 'NONE'),
  });
  expect(await emulator.start()).toBe(true);
  cleanups.push(() => emulator.stop());
  const downlinks: ForwarderDownlink[] = [];
  emulator.on('downlink', (d) => downlinks.push(d));
  const device = new SimulatedDevice({
    identity: { activation: 'otaa', devEui: DEV_EUI, joinEui: JOIN_EUI, appKey: hexBytes(APP_KEY) },
    region: plan,
    seed: 5,
    factoryChannels: true,
  });
  const heard = new Set(getRegion(plan).uplinkChannels.map((c) => c.frequencyHz));

  /** Sends `phy` at `tmst` on a channel the gateway hears; returns the downlinks the NS sent for it. */
  async function send(phy: Uint8Array, tmst: number) {
    let radio = device.nextUplinkRadio();
    // The gateway hears its own channels only: a device with all 72 on tries until it lands on one.
    for (let tries = 0; !heard.has(radio.frequencyHz) && tries < 1000; tries++)
      radio = device.nextUplinkRadio();
    expect(heard.has(radio.frequencyHz)).toBe(true);
    const before = downlinks.length;
    const { acked } = await emulator.sendUplink(phy, {
      frequencyHz: radio.frequencyHz,
      dataRate: radio.dataRate,
      rssi: -70,
      snr: 7,
      tmst,
    });
    expect(acked).toBe(true);
    await server.settle();
    return { radio, sent: downlinks.slice(before) };
  }
  return { repository, device, send, refuse, server };
}

describe.each(Object.keys(PLANS) as PlanId[])('%s over UDP', (plan) => {
  const facts = PLANS[plan];

  it('joins, answers a confirmed uplink and LinkCheckReq in RX1, and in RX2 when RX1 is refused', async () => {
    const f = await field(plan);

    // OTAA join: JOIN_ACCEPT_DELAY1 = 5 s after the uplink, RX1 channel and DR of the plan.
    const joinAt = 10_000_000;
    const join = await f.send(f.device.joinRequest(), joinAt);
    expect(join.sent).toHaveLength(1);
    const accept = join.sent[0] as ForwarderDownlink;
    expect(accept.txpk).toMatchObject({
      tmst: joinAt + 5_000_000,
      frequencyHz: facts.rx1Hz(join.radio.frequencyHz),
      dataRate: facts.rx1,
      invertPolarity: true,
    });
    expect(f.device.handleDownlink(accept.txpk.phyPayload).kind).toBe('join-accept');

    // Confirmed uplink + LinkCheckReq: answered in RX1, RECEIVE_DELAY1 = 1 s.
    const firstAt = 30_000_000;
    f.device.request('LinkCheckReq');
    const first = await f.send(
      f.device.uplink({ fPort: 2, payload: new Uint8Array([1]), confirmed: true }),
      firstAt,
    );
    expect(first.sent.map((d) => d.txpk.tmst)).toEqual([firstAt + 1_000_000]);
    expect(first.sent[0]?.txpk).toMatchObject({
      frequencyHz: facts.rx1Hz(first.radio.frequencyHz),
      dataRate: facts.rx1,
    });
    const answer = f.device.handleDownlink(first.sent[0]?.txpk.phyPayload ?? new Uint8Array());
    expect(answer.kind === 'data' && answer.acked).toBe(true);
    expect(f.device.lastLinkCheck?.gwCnt).toBe(1);

    // The forwarder refuses RX1 (TOO_LATE): the same answer goes out in RX2, RECEIVE_DELAY2 = 2 s.
    const secondAt = 50_000_000;
    f.refuse.add(secondAt + 1_000_000);
    const second = await f.send(
      f.device.uplink({ fPort: 2, payload: new Uint8Array([2]), confirmed: true }),
      secondAt,
    );
    expect(second.sent.map((d) => [d.txpk.tmst, d.ack])).toEqual([
      [secondAt + 1_000_000, 'TOO_LATE'],
      [secondAt + 2_000_000, 'NONE'],
    ]);
    expect(second.sent[1]?.txpk).toMatchObject({ frequencyHz: facts.rx2.hz, dataRate: facts.rx2.dataRate });
    // MACPayload = PHYPayload − MHDR − MIC must fit the plan's M at RX2's DR (AS923 dwell time: 19 bytes).
    expect((second.sent[1]?.txpk.phyPayload.length ?? 99) - 5).toBeLessThanOrEqual(facts.rx2.maxMacPayload);
    const late = f.device.handleDownlink(second.sent[1]?.txpk.phyPayload ?? new Uint8Array());
    expect(late.kind === 'data' && late.acked).toBe(true);

    // One more uplink carries the answers to what the network asked (LinkADRReq, NewChannelReq, TxParamSetupReq).
    await f.send(f.device.uplink({ fPort: 2, payload: new Uint8Array([3]) }), 70_000_000);
    const session = await f.repository.getSession(DEV_EUI);
    expect(session?.pendingMac.filter((p) => p.cid !== 'DevStatusReq')).toEqual([]);
    const region = getRegion(plan);
    if (facts.subBand2) {
      // All 72 channels on at the factory; the channel mask keeps the device on sub-band 2.
      expect(session?.channelMaskAcked).toBe(true);
      expect(f.device.enabledChannels.map((c) => c.channel)).toEqual(facts.subBand2);
    } else {
      expect(f.device.enabledChannels.map((c) => c.frequencyHz).sort()).toEqual(
        region.uplinkChannels.map((c) => c.frequencyHz).sort(),
      );
    }
    if (region.txParams) {
      expect(session?.txParamsAcked).toBe(true);
      expect(f.device.txParams).toEqual(region.txParams);
    }
    expect(f.server.counters().internal_errors ?? 0).toBe(0);
  });
});
