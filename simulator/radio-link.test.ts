/**
 * Radio paths against their emulators: the concentrator counter and GPS time
 * come from the simulated clock, and only downlinks the concentrator accepted
 * reach the farm.
 */
import dgram from 'node:dgram';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeDatagram,
  encodePullAck,
  encodePullResp,
  encodePushAck,
  type Txpk,
} from '../proto/semtech-udp/index.js';
import { encodeMessage, SerialFrameDecoder, type SerialMessage } from '../proto/serial/index.js';
import { eventually } from '../test/helpers/wait.js';
import { SimClock } from './clock.js';
import { PacketForwarderEmulator } from './packet-forwarder.js';
import {
  acceptEveryTxpk,
  type PathDownlink,
  SerialRadioPath,
  UdpRadioPath,
  unixToGpsMs,
} from './radio-link.js';
import { SerialConcentratorEmulator } from './serial-concentrator.js';

const SF7 = { modulation: 'LORA' as const, spreadingFactor: 7, bandwidthKHz: 125 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('radio paths', () => {
  it('tmst is the simulated µs since the start plus the offset, wrapping at 2^32', () => {
    const clock = new SimClock({ startMs: 1_000_000 });
    const mcu = new SerialConcentratorEmulator();
    const path = new SerialRadioPath(mcu, '0102030405060708', {
      name: 's',
      clock,
      tmstOffset: 2 ** 32 - 1_000,
    });
    expect(path.tmstAt(1_000_000)).toBe(2 ** 32 - 1_000);
    expect(path.tmstAt(1_000_001)).toBe(0);
    // 2^32 µs (about 71.6 min) later the counter is back where it started.
    expect(path.tmstAt(1_000_000 + 2 ** 32 / 1000)).toBe(2 ** 32 - 1_000);
    expect(path.tmstAt(1_000_000 + 24 * 3_600_000)).toBe((2 ** 32 - 1_000 + 86_400_000_000) % 2 ** 32);
  });

  it('UDP: rxpk carries the simulated tmst and GPS time; a refused txpk never reaches the devices', async () => {
    const server = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const pushed: ReturnType<typeof decodeDatagram>[] = [];
    let peer: dgram.RemoteInfo | undefined;
    server.on('message', (msg, rinfo) => {
      const p = decodeDatagram(msg);
      peer = rinfo;
      if (p.type === 'PUSH_DATA') {
        pushed.push(p);
        server.send(encodePushAck({ token: p.token }), rinfo.port, rinfo.address);
      }
      if (p.type === 'PULL_DATA') server.send(encodePullAck({ token: p.token }), rinfo.port, rinfo.address);
    });
    const refuseRx2 = (txpk: Txpk) => (txpk.frequencyHz === 869_525_000 ? 'TOO_LATE' : 'NONE');
    const forwarder = new PacketForwarderEmulator({
      port: server.address().port,
      gatewayEui: 'aa555a0000000000',
      txAckFor: refuseRx2,
    });
    cleanups.push(() => forwarder.stop());
    expect(await forwarder.start()).toBe(true);
    const clock = new SimClock({ startMs: Date.UTC(2026, 0, 1) });
    const path = new UdpRadioPath(forwarder, { name: 'u', clock, tmstOffset: 7 });
    const heard: PathDownlink[] = [];
    path.on('downlink', (dl) => heard.push(dl));
    cleanups.push(() => path.detach());

    const atMs = clock.startMs + 90_000;
    await path.send(Uint8Array.of(0x40, 1, 2, 3), {
      tmst: path.tmstAt(atMs),
      frequencyHz: 868_300_000,
      dataRate: SF7,
      rssi: -77,
      snr: 6,
      atMs,
    });
    const push = pushed[0];
    if (push?.type !== 'PUSH_DATA' || push.rxpk[0]?.status !== 'ok') throw new Error('no good rxpk');
    const rx = push.rxpk[0].uplink.rx;
    expect(rx.tmst).toBe(90_000_007);
    expect(rx.time).toBe(new Date(atMs).toISOString());
    expect(rx.tmms).toBe(unixToGpsMs(atMs));

    const txpk = (frequencyHz: number): Txpk => ({
      immediate: false,
      tmst: 91_000_007,
      frequencyHz,
      rfChain: 0,
      powerDbm: 14,
      dataRate: SF7,
      codingRate: '4/5',
      invertPolarity: true,
      noCrc: true,
      phyPayload: Uint8Array.of(0x60, 9),
    });
    if (!peer) throw new Error('no peer');
    server.send(encodePullResp({ token: 1, txpk: txpk(869_525_000) }), peer.port, peer.address);
    server.send(encodePullResp({ token: 2, txpk: txpk(868_300_000) }), peer.port, peer.address);
    // The off-frequency downlink went first on the same socket: once the second is heard, the first was dealt with.
    await eventually(() => heard.length > 0, 20_000, 'the downlink on the listened frequency');
    expect(heard).toEqual([
      { tmst: 91_000_007, frequencyHz: 868_300_000, dataRate: SF7, phyPayload: Uint8Array.of(0x60, 9) },
    ]);
  });

  it('serial: RXPK carries the simulated tmst and GPS ms; TXPK becomes a downlink', async () => {
    const line = new PassThrough();
    const mcu = new SerialConcentratorEmulator({ txAck: acceptEveryTxpk });
    const fromMcu: SerialMessage[] = [];
    const decoder = new SerialFrameDecoder();
    line.on('data', (chunk: Buffer) => {
      for (const ev of decoder.pushMessages(chunk)) if (ev.kind === 'message') fromMcu.push(ev.message);
    });
    mcu.attach(line);
    cleanups.push(() => mcu.close());
    const clock = new SimClock({ startMs: Date.UTC(2026, 0, 1) });
    const path = new SerialRadioPath(mcu, '0102030405060708', { name: 's', clock });
    const atMs = clock.startMs + 1_500;
    await path.send(Uint8Array.of(0x40, 1), {
      tmst: path.tmstAt(atMs),
      frequencyHz: 868_100_000,
      dataRate: SF7,
      rssi: -90,
      snr: 3,
      atMs,
    });
    await new Promise((r) => setImmediate(r));
    const rxpk = fromMcu.find((m) => m.type === 'rxpk');
    expect(rxpk).toMatchObject({
      tmst: 1_500_000,
      tmms: unixToGpsMs(atMs),
      frequencyHz: 868_100_000,
      rssi: -90,
      snr: 3,
    });
    expect(path.gatewayEui).toBe('0102030405060708');

    const heard: PathDownlink[] = [];
    path.on('downlink', (dl) => heard.push(dl));
    line.write(
      encodeMessage({
        type: 'txpk',
        seq: 9,
        id: 4,
        immediate: false,
        tmst: 2_500_000,
        frequencyHz: 868_100_000,
        rfChain: 0,
        powerDbm: 14,
        dataRate: SF7,
        codingRate: '4/5',
        invertPolarity: true,
        preamble: 8,
        payload: Uint8Array.of(0x20, 1, 2),
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([
      { tmst: 2_500_000, frequencyHz: 868_100_000, dataRate: SF7, phyPayload: Uint8Array.of(0x20, 1, 2) },
    ]);
    expect(fromMcu.find((m) => m.type === 'txpk-ack')).toMatchObject({ id: 4, status: 'OK' });
  });
});
