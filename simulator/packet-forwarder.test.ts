import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../proto/errors.js';
import { decodeDatagram, encodePullAck, encodePullResp, encodePushAck } from '../proto/semtech-udp/index.js';
import { eventually as until } from '../test/helpers/wait.js';
import { PacketForwarderEmulator } from './packet-forwarder.js';
import { TmstClock } from './packet-forwarder-meta.js';

const EUI = 'fedcba9876543210';
const sockets: dgram.Socket[] = [];
const emulators: PacketForwarderEmulator[] = [];

/** A fake server that records what the emulator sends and answers only when told to. */
async function fakeServer(answer: { pushAck: boolean; pullAck: boolean }) {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const received: Array<ReturnType<typeof decodeDatagram>> = [];
  let peer: dgram.RemoteInfo | undefined;
  socket.on('message', (msg, rinfo) => {
    const p = decodeDatagram(msg);
    received.push(p);
    peer = rinfo;
    if (p.type === 'PUSH_DATA' && answer.pushAck)
      socket.send(encodePushAck({ token: p.token }), rinfo.port, rinfo.address);
    if (p.type === 'PULL_DATA' && answer.pullAck)
      socket.send(encodePullAck({ token: p.token }), rinfo.port, rinfo.address);
  });
  const sendToPeer = (b: Uint8Array) => socket.send(b, peer!.port, peer!.address);
  return { port: socket.address().port, received, sendToPeer };
}

function emulator(
  port: number,
  extra: Partial<ConstructorParameters<typeof PacketForwarderEmulator>[0]> = {},
) {
  const e = new PacketForwarderEmulator({
    port,
    gatewayEui: EUI,
    ackTimeoutMs: 100,
    keepAliveMs: 60_000,
    ...extra,
  });
  emulators.push(e);
  return e;
}

afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
  for (const s of sockets.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

describe('PacketForwarderEmulator', () => {
  it('counts PUSH_ACKs and PULL_ACKs that never come', async () => {
    const server = await fakeServer({ pushAck: false, pullAck: false });
    const e = emulator(server.port);
    expect(await e.start()).toBe(false);
    expect(
      await e.sendUplink(new Uint8Array([1]), { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -50 }),
    ).toMatchObject({
      acked: false,
    });
    expect(e.counters()).toMatchObject({
      pullDataSent: 1,
      pullAcksMissing: 1,
      pushDataSent: 1,
      pushAcksMissing: 1,
    });
    expect(server.received.map((p) => p.type)).toEqual(['PULL_DATA', 'PUSH_DATA']);
  });

  it('puts several rxpk and a stat in PUSH_DATA, with tmst from its own counter', async () => {
    const server = await fakeServer({ pushAck: true, pullAck: true });
    const e = emulator(server.port, { tmstStart: 1000 });
    await e.start();
    await e.sendUplinks([
      {
        phyPayload: new Uint8Array([1]),
        meta: { frequencyHz: 902_300_000, dataRate: 'SF10BW125', rssi: -100, snr: -5 },
      },
      {
        phyPayload: new Uint8Array([2]),
        meta: { frequencyHz: 903_900_000, dataRate: 'SF8BW500', rssi: -90, tmst: 4294967295 },
      },
    ]);
    expect(
      await e.sendStat({
        rxReceived: 2,
        rxOk: 2,
        rxForwarded: 2,
        ackRatio: 100,
        downlinksReceived: 0,
        txEmitted: 0,
      }),
    ).toMatchObject({
      acked: true,
    });
    const push = server.received.filter((p) => p.type === 'PUSH_DATA');
    expect(push).toHaveLength(2);
    const [frames, stat] = push;
    if (frames?.type !== 'PUSH_DATA' || stat?.type !== 'PUSH_DATA') throw new Error('unexpected packets');
    const rx = frames.rxpk.map((o) => (o.status === 'ok' ? o.uplink.rx : undefined));
    expect(rx[0]).toMatchObject({ frequencyHz: 902_300_000, codingRate: '4/5', snr: -5, gatewayEui: EUI });
    expect(rx[0]!.tmst).toBeGreaterThanOrEqual(1000);
    expect(rx[1]).toMatchObject({ tmst: 4294967295, dataRate: { bandwidthKHz: 500 } });
    expect(stat.stat).toMatchObject({ rxReceived: 2, gatewayEui: EUI });
    expect(e.counters()).toMatchObject({ pushAcksReceived: 2, pushAcksMissing: 0 });
  });

  it('answers PULL_RESP with the TX_ACK its hook chooses, echoing the token', async () => {
    const server = await fakeServer({ pushAck: true, pullAck: true });
    const e = emulator(server.port, { txAckFor: (t) => (t.immediate ? 'TOO_EARLY' : 'NONE') });
    await e.start();
    const downlinks: string[] = [];
    e.on('downlink', (d) => downlinks.push(d.ack));
    const txpk = {
      immediate: true,
      frequencyHz: 869_525_000,
      rfChain: 0,
      powerDbm: 14,
      dataRate: { modulation: 'LORA' as const, spreadingFactor: 9, bandwidthKHz: 125 },
      codingRate: '4/5',
      invertPolarity: true,
      noCrc: false,
      phyPayload: new Uint8Array([9]),
    };
    server.sendToPeer(encodePullResp({ token: 0x7777, txpk }));
    await until(() => server.received.some((p) => p.type === 'TX_ACK'));
    expect(server.received.find((p) => p.type === 'TX_ACK')).toEqual({
      type: 'TX_ACK',
      version: 2,
      token: 0x7777,
      gatewayEui: EUI,
      error: 'TOO_EARLY',
    });
    expect(downlinks).toEqual(['TOO_EARLY']);
  });

  it('refuses to send before start, and stop() ends keep-alives and outstanding waits', async () => {
    const server = await fakeServer({ pushAck: false, pullAck: true });
    const e = emulator(server.port, { keepAliveMs: 20, ackTimeoutMs: 60_000 });
    const early = await e.pullData().catch((err: unknown) => err);
    expect(isMaverickError(early, ErrorCode.RadioNotStarted)).toBe(true);
    await e.start();
    const waiting = e.sendUplink(new Uint8Array([1]), {
      frequencyHz: 868_100_000,
      dataRate: 'SF7BW125',
      rssi: -1,
    });
    await until(() => e.counters().pullDataSent! >= 3);
    await e.stop();
    expect(await waiting).toMatchObject({ acked: false });
    const sentAtStop = e.counters().pullDataSent;
    await new Promise((r) => setTimeout(r, 80));
    expect(e.counters().pullDataSent).toBe(sentAtStop);
  });
});

describe('TmstClock', () => {
  it('wraps like a u32 microsecond counter', async () => {
    const clock = new TmstClock(0xffff_ffff);
    await new Promise((r) => setTimeout(r, 2));
    const t = clock.now();
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThan(10_000_000);
  });
});
