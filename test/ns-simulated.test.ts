/**
 * Simulated devices (simulator/device.ts, the kernel's independent
 * counterpart) against the network server over a fake radio: they join,
 * apply every MAC command the server sends and answer it, and the two
 * sides' views of the session stay in agreement.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRadio, rxMeta } from '../kernel/ns/fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from '../kernel/ns/memory-repository.test-helpers.js';
import { NetworkServer } from '../kernel/ns/network-server.js';
import { addDevice } from '../kernel/ns/registry.js';
import type { ProcessedUplink, StatusEvent } from '../kernel/ns/uplink-types.js';
import { getRegion } from '../proto/regions/index.js';
import { SimulatedDevice } from '../simulator/device.js';

const APP_KEY = '2b7e151628aed2a6abf7158809cf4f3c';
const JOIN_EUI = '70b3d57ed0000000';

let ns: NetworkServer | undefined;
afterEach(async () => {
  await ns?.stop();
});

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

async function field(region: string, count: number, dataRate: number) {
  const repository = new MemoryNetworkRepository();
  const radio = new FakeRadio();
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < count; i++) {
    const devEui = `00000000000000${(i + 16).toString(16)}`;
    await addDevice(repository, {
      devEui,
      name: `sim-${i}`,
      applicationId: 'farm',
      regionId: getRegion(region).id,
      activation: { mode: 'otaa', joinEui: JOIN_EUI, appKey: APP_KEY },
    });
    devices.push(
      new SimulatedDevice({
        identity: { activation: 'otaa', devEui, joinEui: JOIN_EUI, appKey: hexBytes(APP_KEY) },
        region,
        seed: i + 1,
        dataRate,
      }),
    );
  }
  const server = new NetworkServer({ repository, radios: [radio], dedupWindowMs: 60_000 });
  const ups: ProcessedUplink[] = [];
  const statuses: StatusEvent[] = [];
  server.on('up', (u) => ups.push(u));
  server.on('status', (s) => statuses.push(s));
  await server.start();
  ns = server;
  let tmst = 1_000_000;

  /** Sends a frame from `device`, and hands it whatever the server transmitted in reply. */
  async function exchange(device: SimulatedDevice, phy: Uint8Array, snr = 8) {
    const before = radio.sent.length;
    const r = device.nextUplinkRadio();
    tmst += 10_000_000;
    radio.receive({
      phyPayload: phy,
      rx: rxMeta({ tmst, snr, frequencyHz: r.frequencyHz, dataRate: r.dataRate }),
      receivedAtMs: Date.now(),
    });
    await server.settle();
    // Only a frame the gateway accepted reaches the device.
    const last = radio.sent.length - 1;
    const reply = last >= before && radio.statuses[last] === 'OK' ? radio.sent[last] : undefined;
    return reply ? device.handleDownlink(reply.phyPayload) : undefined;
  }
  return { repository, radio, devices, server, ups, statuses, exchange };
}

describe('simulated devices through the network server', () => {
  it('EU868: join, ADR from SF12 to SF7 then down to the lowest power, DevStatus answered, sessions agree', async () => {
    const f = await field('EU868', 4, 0);
    for (const device of f.devices) {
      const accept = await f.exchange(device, device.joinRequest());
      expect(accept?.kind).toBe('join-accept');
      expect(device.enabledChannels).toHaveLength(8); // CFList applied
    }
    // 20 uplinks fill the ADR history; a few more let power reduction settle (one 3 dB step per uplink).
    for (let n = 0; n < 30; n++) {
      for (const device of f.devices)
        await f.exchange(device, device.uplink({ fPort: 2, payload: new Uint8Array([n]) }));
    }
    expect(f.ups).toHaveLength(4 * 30);
    expect(f.statuses.map((s) => s.battery)).toEqual([254, 254, 254, 254]);
    for (const device of f.devices) {
      expect(device.dataRate).toBe(5);
      expect(device.txPowerDbm).toBe(2); // EU868 TXPower 7 = 16 - 14 dBm
      const session = await f.repository.getSession(
        device.identity.activation === 'otaa' ? device.identity.devEui : '',
      );
      expect(session?.dr).toBe(5);
      expect(session?.pendingMac).toEqual([]);
      expect(session?.fCntUp).toBe(device.fCntUp - 1);
      expect(session?.nFCntDown).toBe((device.fCntDown ?? -1) + 1);
    }
    expect(f.server.counters().internal_errors ?? 0).toBe(0);
  });

  it('AS923-2: ADR from DR2 up to DR5 with the 8th channel, dwell time and MaxEIRP taken (TxParamSetupReq)', async () => {
    const f = await field('AS923-2', 2, 2);
    for (const device of f.devices) {
      expect((await f.exchange(device, device.joinRequest()))?.kind).toBe('join-accept');
      expect(device.enabledChannels).toHaveLength(7); // 2 default + 5 from the CFList
    }
    for (let n = 0; n < 30; n++) {
      for (const device of f.devices)
        await f.exchange(device, device.uplink({ fPort: 2, payload: new Uint8Array([n]) }));
    }
    for (const device of f.devices) {
      // The 8th channel came by NewChannelReq; ADR's ChMask (all 8) was accepted with it.
      expect(device.enabledChannels.map((c) => c.frequencyHz)).toContain(920_200_000);
      expect(device.enabledChannels).toHaveLength(8);
      expect(device.dataRate).toBe(5);
      expect(device.txParams).toEqual({ uplinkDwellTime: true, downlinkDwellTime: true, maxEirpIndex: 5 });
      const devEui = device.identity.activation === 'otaa' ? device.identity.devEui : '';
      const session = await f.repository.getSession(devEui);
      expect(session?.txParamsAcked).toBe(true);
      expect(session?.dr).toBe(5);
      expect(session?.pendingMac.filter((p) => p.cid !== 'DevStatusReq')).toEqual([]);
    }
    expect(f.server.counters().internal_errors ?? 0).toBe(0);
  });

  it('a confirmed uplink whose ACK was lost is retransmitted, recognised and ACKed again', async () => {
    const f = await field('EU868', 1, 5);
    const [device] = f.devices;
    if (!device) throw new Error('no device');
    await f.exchange(device, device.joinRequest());
    f.radio.script.push('TOO_LATE', 'TOO_LATE');
    const lost = await f.exchange(
      device,
      device.uplink({ fPort: 1, payload: new Uint8Array([1]), confirmed: true }),
    );
    expect(lost).toBeUndefined();
    const retry = await f.exchange(device, device.retransmitLast());
    expect(retry?.kind === 'data' && retry.acked).toBe(true);
    expect(f.ups).toHaveLength(1);
    expect(f.server.counters().retransmissions).toBe(1);
  });

  it('US915: joins on sub-band 2 and the LinkADRReq channel mask is accepted', async () => {
    const f = await field('US915', 2, 3);
    for (const device of f.devices) {
      expect((await f.exchange(device, device.joinRequest()))?.kind).toBe('join-accept');
      for (let n = 0; n < 3; n++)
        await f.exchange(device, device.uplink({ fPort: 1, payload: new Uint8Array([n]) }));
      const devEui = device.identity.activation === 'otaa' ? device.identity.devEui : '';
      expect((await f.repository.getSession(devEui))?.channelMaskAcked).toBe(true);
      expect(device.enabledChannels.map((c) => c.channel)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 65]);
    }
    expect(f.ups).toHaveLength(6);
  });
});
