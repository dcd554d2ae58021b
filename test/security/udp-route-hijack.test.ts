/**
 * Attack 2 of the hardening issue, end to end: the real gateway runtime with its
 * Semtech UDP backend (allowlist = the gateway's own EUI, as `maverick run` sets
 * it), a real packet-forwarder emulator on 127.0.0.1, and an attacker on
 * 127.0.0.2 (another loopback address, so another host as far as the gateway
 * can tell):
 *  - the attacker sends PULL_DATA with the real gateway's EUI to take its
 *    downlink route: the join accept still reaches the real forwarder;
 *  - the attacker relays a confirmed uplink with a much better RSSI, under the
 *    real EUI and under an EUI of its own: the ACK still goes to the real one;
 *  - an unknown EUI gets no answer and is counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { SemtechUdpBackend as Backend } from '../../gateway/radio/semtech-udp.js';
import { SemtechUdpBackend } from '../../gateway/radio/semtech-udp.js';
import { type GatewayRuntime, startGatewayRuntime } from '../../gateway/runtime.js';
import { addDevice } from '../../kernel/ns/registry.js';
import { decodeDatagram, encodePullData, encodePushData } from '../../proto/semtech-udp/index.js';
import { type ForwarderDownlink, PacketForwarderEmulator } from '../../simulator/packet-forwarder.js';
import { rxpkFromMeta, TmstClock, type UplinkMeta } from '../../simulator/packet-forwarder-meta.js';
import { Cleanups, tempDataDir, waitUntil } from '../helpers/e2e-field.js';
import { abpDevice, otaaDevice } from './devices.js';

const GATEWAY = 'aa555a0000000001';
const ATTACKER_EUI = 'deadbeef00000666';
const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const OTAA = {
  devEui: '0102030405060701',
  joinEui: '70b3d57ed0000000',
  appKey: '2b7e151628aed2a6abf7158809cf4f3c',
};
const ABP = {
  devEui: '0102030405060702',
  devAddr: '01000002',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};

interface Attacker {
  socket: Socket;
  /** PULL_RESPs (downlinks) and ACKs the attacker was sent. */
  received: Array<ReturnType<typeof decodeDatagram>>;
  send(bytes: Uint8Array): Promise<void>;
}

async function startAttacker(gatewayPort: number): Promise<Attacker> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', resolve));
  cleanups.add(() => new Promise<void>((r) => socket.close(() => r())));
  const received: Attacker['received'] = [];
  socket.on('message', (msg) => received.push(decodeDatagram(msg)));
  return {
    socket,
    received,
    send: (bytes) =>
      new Promise((resolve, reject) =>
        socket.send(bytes, gatewayPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      ),
  };
}

async function startFarmGateway(): Promise<{ runtime: GatewayRuntime; udp: Backend; port: number }> {
  const dataDir = tempDataDir(cleanups);
  const udp = new SemtechUdpBackend({ host: '127.0.0.1', port: 0, allowedGateways: [GATEWAY] });
  const runtime = await startGatewayRuntime({
    dataDir,
    gatewayId: GATEWAY,
    regionId: 'EU868',
    radios: [udp],
    mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: 'farm', password: 'route-test-pw' },
    synchronous: 'NORMAL',
    dedupWindowMs: 300,
  });
  cleanups.add(() => runtime.stop());
  await addDevice(runtime.repository, {
    devEui: OTAA.devEui,
    name: 'otaa',
    applicationId: 'farm',
    regionId: 'EU868',
    codec: { kind: 'none' },
    activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
  });
  await addDevice(runtime.repository, {
    devEui: ABP.devEui,
    name: 'abp',
    applicationId: 'farm',
    regionId: 'EU868',
    codec: { kind: 'none' },
    activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
  });
  return { runtime, udp, port: udp.address().port };
}

async function startForwarder(
  port: number,
): Promise<{ forwarder: PacketForwarderEmulator; downlinks: ForwarderDownlink[] }> {
  const forwarder = new PacketForwarderEmulator({
    host: '127.0.0.1',
    port,
    gatewayEui: GATEWAY,
    ackTimeoutMs: 2000,
  });
  const downlinks: ForwarderDownlink[] = [];
  forwarder.on('downlink', (d) => downlinks.push(d));
  expect(await forwarder.start()).toBe(true);
  cleanups.add(() => forwarder.stop());
  return { forwarder, downlinks };
}

const META: UplinkMeta = { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -112, snr: -4 };
const tmst = new TmstClock(1_000_000);

/** The attacker's copy of a frame: the same bytes, a far better RSSI, under `eui`. */
function relayed(phy: Uint8Array, eui: string, token: number): Uint8Array {
  return encodePushData({
    token,
    gatewayEui: eui,
    rxpk: [rxpkFromMeta({ phyPayload: phy, meta: { ...META, rssi: -20, snr: 12 } }, tmst)],
  });
}

describe('Semtech UDP: route hijack and ACK theft are refused (end to end)', () => {
  it('a bare PULL_DATA from another host does not take the route: the join accept reaches the real forwarder', async () => {
    const { udp, port } = await startFarmGateway();
    const { forwarder, downlinks } = await startForwarder(port);
    const attacker = await startAttacker(port);
    // The attacker claims the gateway's downlinks, repeatedly.
    for (let i = 0; i < 5; i++) await attacker.send(encodePullData({ token: 100 + i, gatewayEui: GATEWAY }));
    // 1 PULL_DATA from the forwarder's start + the 5 claims have been handled.
    await waitUntil(() => (udp.counters().datagramsReceived ?? 0) >= 6, 5000, 'the claims to arrive');
    expect(udp.gateways()).toEqual([expect.objectContaining({ gatewayEui: GATEWAY, address: '127.0.0.1' })]);

    const device = otaaDevice(OTAA, 3);
    await forwarder.sendUplink(device.joinRequest(), META);
    await waitUntil(() => downlinks.length > 0, 10_000, 'the join accept at the real forwarder');
    expect(device.handleDownlink(downlinks[0]!.txpk.phyPayload).kind).toBe('join-accept');
    // The attacker was not even acknowledged.
    expect(attacker.received).toEqual([]);
    expect(udp.counters().datagramsForeignSource).toBe(5);
  });

  it('a relayed copy with a better RSSI does not get the confirmed-uplink ACK, under the real EUI or its own', async () => {
    const { udp, port, runtime } = await startFarmGateway();
    const { forwarder, downlinks } = await startForwarder(port);
    const attacker = await startAttacker(port);
    // The attacker opens a route under its own EUI too (a second "gateway").
    await attacker.send(encodePullData({ token: 1, gatewayEui: ATTACKER_EUI }));
    const device = abpDevice(ABP, 5);
    const phy = device.uplink({ fPort: 2, payload: new Uint8Array([1, 2, 3]), confirmed: true });
    // Both copies arrive first, inside the dedup window, then the real one.
    await attacker.send(relayed(phy, ATTACKER_EUI, 8));
    await attacker.send(relayed(phy, GATEWAY, 7));
    await forwarder.sendUplink(phy, META);
    await waitUntil(() => downlinks.length > 0, 10_000, 'the ACK at the real forwarder');
    await runtime.ns.flush();
    const ack = device.handleDownlink(downlinks[0]!.txpk.phyPayload);
    expect(ack).toMatchObject({ kind: 'data' });
    expect(attacker.received).toEqual([]);
    const counters = udp.counters();
    expect(counters.datagramsForeignSource).toBe(1);
    expect(counters.datagramsUnknownGateway).toBe(2);
    expect(counters.rxpkForwarded).toBe(1);
  });
});
