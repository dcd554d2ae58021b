/**
 * Acceptance for the Semtech UDP radio backend (issue 2, UDP part): real dgram sockets on
 * loopback, ephemeral ports, the bytes of PROTOCOL.TXT v2 on the wire.
 */
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { SemtechUdpThreadBackend } from '../gateway/radio/semtech-udp-thread.js';
import { diffTmst, type GatewayStats, type RadioUplink, type TxRequest } from '../proto/radio.js';
import { decodeDatagram, encodeTxAck, type SemtechPacket } from '../proto/semtech-udp/index.js';
import { PacketForwarderEmulator } from '../simulator/packet-forwarder.js';
import { eventually, eventuallyValue } from './helpers/wait.js';

/** A raw forwarder socket: sends bytes, queues what comes back. */
class RawClient {
  readonly socket = dgram.createSocket('udp4');
  readonly #inbox: Buffer[] = [];
  readonly #waiters: Array<(b: Buffer) => void> = [];

  async bind(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.socket.on('message', (msg) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(msg);
      else this.#inbox.push(msg);
    });
    return this;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }

  next(timeoutMs = 2000): Promise<Buffer> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(done), 1);
        reject(new Error(`no datagram within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (b: Buffer) => {
        clearTimeout(timer);
        resolve(b);
      };
      this.#waiters.push(done);
    });
  }

  pending(): number {
    return this.#inbox.length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function header(version: number, token: number, id: number, eui: string): number[] {
  return [version, token >> 8, token & 0xff, id, ...Buffer.from(eui, 'hex')];
}
const json = (v: unknown) => [...Buffer.from(JSON.stringify(v))];
const pullData = (token: number, eui: string, version = 2) => new Uint8Array(header(version, token, 2, eui));

const GW_A = 'aa555a0000000001';
const GW_B = 'aa555a0000000002';

function downlink(gatewayEui: string, id: number): TxRequest {
  return {
    gatewayEui,
    tmst: 4_294_967_000,
    frequencyHz: 868_100_000,
    powerDbm: 14,
    dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
    codingRate: '4/5',
    invertPolarity: true,
    phyPayload: new Uint8Array([0x60, 1, 2, 3, 4, 0x20, 0, 0]),
    id,
  };
}

// The same protocol whichever thread reads the socket: on the event loop, or on its own thread (`maverick run`).
const backends = [
  ['on the event loop', SemtechUdpBackend],
  ['on its own thread', SemtechUdpThreadBackend],
] as const;

describe.each(backends)('Semtech UDP backend over loopback, socket read %s', (_where, Backend) => {
  let backend: SemtechUdpBackend | SemtechUdpThreadBackend;
  let port: number;
  const clients: RawClient[] = [];
  const emulators: PacketForwarderEmulator[] = [];
  const client = async () => {
    const c = await new RawClient().bind();
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    backend = new Backend({ host: '127.0.0.1', port: 0, txAckTimeoutMs: 500 });
    await backend.start();
    port = backend.address().port;
  });

  afterEach(async () => {
    for (const e of emulators.splice(0)) await e.stop();
    for (const c of clients.splice(0)) await c.close();
    await backend.stop();
  });

  it('acks a PUSH_DATA of three rxpk with the same token and delivers the three frames with exact metadata', async () => {
    const uplinks: RadioUplink[] = [];
    backend.on('uplink', (u) => uplinks.push(u));
    const gw = await client();
    const rxpk = [
      {
        tmst: 0,
        chan: 0,
        rfch: 0,
        freq: 868.1,
        stat: 1,
        modu: 'LORA',
        datr: 'SF7BW125',
        codr: '4/5',
        rssi: -40,
        lsnr: 9.5,
        size: 3,
        data: 'AQID',
      },
      {
        time: '2026-11-21T09:30:00.000123Z',
        tmms: 1_447_666_218_000,
        tmst: 4294967295,
        chan: 5,
        rfch: 1,
        freq: 867.5,
        stat: 1,
        modu: 'LORA',
        datr: 'SF12BW125',
        codr: '4/5',
        lsnr: -15.25,
        size: 2,
        data: '//8=',
        rsig: [
          { ant: 0, chan: 5, rssic: -118, lsnr: -15.25 },
          { ant: 1, chan: 5, rssic: -121, lsnr: -17 },
        ],
      },
      {
        tmst: 123456,
        chan: 8,
        rfch: 1,
        freq: 868.8,
        stat: 1,
        modu: 'FSK',
        datr: 50000,
        rssi: -70,
        size: 1,
        data: 'qg==',
        future: 'ignored',
      },
    ];
    const sentAt = Date.now();
    await gw.send(new Uint8Array([...header(2, 0xbeef, 0, GW_A), ...json({ rxpk })]), port);

    const ack = decodeDatagram(await gw.next());
    expect(ack).toEqual({ type: 'PUSH_ACK', version: 2, token: 0xbeef });
    await eventually(() => uplinks.length === 3);

    expect(uplinks.map((u) => [...u.phyPayload])).toEqual([[1, 2, 3], [0xff, 0xff], [0xaa]]);
    for (const u of uplinks) expect(u.receivedAtMs).toBeGreaterThanOrEqual(sentAt);
    expect(uplinks.map((u) => u.rx)).toEqual([
      {
        gatewayEui: GW_A,
        backend: 'semtech-udp',
        tmst: 0,
        frequencyHz: 868_100_000,
        channel: 0,
        rfChain: 0,
        dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
        codingRate: '4/5',
        rssi: -40,
        snr: 9.5,
      },
      {
        gatewayEui: GW_A,
        backend: 'semtech-udp',
        tmst: 4294967295,
        time: '2026-11-21T09:30:00.000123Z',
        tmms: 1_447_666_218_000,
        frequencyHz: 867_500_000,
        channel: 5,
        rfChain: 1,
        dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
        codingRate: '4/5',
        rssi: -118,
        snr: -15.25,
        antennas: [
          { antenna: 0, channel: 5, rssi: -118, snr: -15.25 },
          { antenna: 1, channel: 5, rssi: -121, snr: -17 },
        ],
      },
      {
        gatewayEui: GW_A,
        backend: 'semtech-udp',
        tmst: 123456,
        frequencyHz: 868_800_000,
        channel: 8,
        rfChain: 1,
        dataRate: { modulation: 'FSK', bitrate: 50000 },
        rssi: -70,
      },
    ]);
    expect(backend.counters()).toMatchObject({
      datagramsPushData: 1,
      rxpkReceived: 3,
      rxpkForwarded: 3,
      pushAcksSent: 1,
    });
  });

  it.skipIf(!existsSync('/proc/sys/net/core/rmem_max'))(
    'asks the kernel for the configured receive buffer at bind, capped by net.core.rmem_max (Linux)',
    async () => {
      const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
      const asked = 1024 * 1024;
      const big = new Backend({ host: '127.0.0.1', port: 0, receiveBufferBytes: asked });
      const small = new Backend({ host: '127.0.0.1', port: 0, receiveBufferBytes: 64 * 1024 });
      await big.start();
      await small.start();
      try {
        // Linux doubles the granted value for its own bookkeeping (socket(7), SO_RCVBUF).
        expect(big.receiveBufferSize()).toBe(2 * Math.min(asked, rmemMax));
        expect(small.receiveBufferSize()).toBe(2 * Math.min(64 * 1024, rmemMax));
      } finally {
        await big.stop();
        await small.stop();
      }
    },
  );

  it('answers PULL_DATA with PULL_ACK (token and version echoed) and emits stats from PUSH_DATA stat', async () => {
    const stats: GatewayStats[] = [];
    backend.on('stats', (s) => stats.push(s));
    const gw = await client();
    await gw.send(pullData(0x0102, GW_A, 1), port);
    expect(decodeDatagram(await gw.next())).toEqual({ type: 'PULL_ACK', version: 1, token: 0x0102 });
    await gw.send(
      new Uint8Array([
        ...header(2, 9, 0, GW_A),
        ...json({ stat: { rxnb: 5, rxok: 4, rxfw: 4, ackr: 100, dwnb: 0, txnb: 0 } }),
      ]),
      port,
    );
    expect(decodeDatagram(await gw.next())).toMatchObject({ type: 'PUSH_ACK', token: 9 });
    const stat = await eventuallyValue(() => stats[0]);
    expect(stat).toMatchObject({ gatewayEui: GW_A, rxReceived: 5, rxOk: 4, rxForwarded: 4, ackRatio: 100 });
    expect(backend.gateways()).toEqual([
      expect.objectContaining({ gatewayEui: GW_A, port: gw.port, version: 1 }),
    ]);
  });

  it('sends PULL_RESP to the address of the LAST PULL_DATA and resolves with the TX_ACK error', async () => {
    const first = await client();
    const last = await client();
    await first.send(pullData(1, GW_A), port);
    await first.next();
    await last.send(pullData(2, GW_A), port); // the forwarder's NAT mapping changed
    await last.next();

    const result = backend.schedule(downlink(GW_A, 77));
    const resp = decodeDatagram(await last.next()) as Extract<SemtechPacket, { type: 'PULL_RESP' }>;
    expect(resp.type).toBe('PULL_RESP');
    expect(resp.txpk).toMatchObject({
      tmst: 4_294_967_000,
      frequencyHz: 868_100_000,
      invertPolarity: true,
      powerDbm: 14,
    });
    expect(first.pending()).toBe(0);

    await last.send(encodeTxAck({ token: resp.token, gatewayEui: GW_A, error: 'TOO_LATE' }), port);
    expect(await result).toEqual({ gatewayEui: GW_A, status: 'TOO_LATE', id: 77 });
    expect(backend.counters()).toMatchObject({ pullRespSent: 1, txAckTooLate: 1 });
  });

  it('keeps two gateways apart: each downlink goes to its own forwarder and each ack settles its own request', async () => {
    const a = await client();
    const b = await client();
    await a.send(pullData(1, GW_A), port);
    await b.send(pullData(1, GW_B), port);
    await a.next();
    await b.next();

    const toA = backend.schedule(downlink(GW_A, 1));
    const toB = backend.schedule(downlink(GW_B, 2));
    const respA = decodeDatagram(await a.next());
    const respB = decodeDatagram(await b.next());
    expect(respA.type).toBe('PULL_RESP');
    expect(respB.type).toBe('PULL_RESP');
    // B answers with A's token: it must not settle A's downlink.
    await b.send(encodeTxAck({ token: respA.token, gatewayEui: GW_B, error: 'NONE' }), port);
    await b.send(encodeTxAck({ token: respB.token, gatewayEui: GW_B, error: 'COLLISION_PACKET' }), port);
    await a.send(encodeTxAck({ token: respA.token, gatewayEui: GW_A }), port);
    expect(await toA).toEqual({ gatewayEui: GW_A, status: 'OK', id: 1 });
    expect(await toB).toEqual({ gatewayEui: GW_B, status: 'COLLISION_PACKET', id: 2 });
    expect(backend.counters()).toMatchObject({ txAckUnmatched: 1, txAckOk: 1, txAckCollisionPacket: 1 });
  });

  it('works end to end with the packet-forwarder emulator', async () => {
    const uplinks: RadioUplink[] = [];
    backend.on('uplink', (u) => uplinks.push(u));
    const emulator = new PacketForwarderEmulator({
      port,
      gatewayEui: GW_B,
      keepAliveMs: 50,
      tmstStart: 4294967295 - 10,
      txAckFor: (txpk) => (txpk.powerDbm === 30 ? 'TX_POWER' : 'NONE'),
    });
    emulators.push(emulator);
    expect(await emulator.start()).toBe(true);

    const sent = await emulator.sendUplinks([
      {
        phyPayload: new Uint8Array([0x40, 1]),
        meta: { frequencyHz: 868_300_000, dataRate: 'SF9BW125', rssi: -90, snr: 3 },
      },
      {
        phyPayload: new Uint8Array([0x40, 2]),
        meta: {
          frequencyHz: 868_500_000,
          dataRate: 'SF10BW125',
          rssi: -100,
          gpsTime: new Date('2026-11-21T12:00:00Z'),
        },
      },
      {
        phyPayload: new Uint8Array([0x40, 3]),
        meta: { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -80, crc: 'bad' },
      },
    ]);
    expect(sent.acked).toBe(true);
    await eventually(() => uplinks.length === 2);
    expect(uplinks.map((u) => [u.rx.frequencyHz, u.rx.dataRate, u.rx.time])).toEqual([
      [868_300_000, { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 }, undefined],
      [
        868_500_000,
        { modulation: 'LORA', spreadingFactor: 10, bandwidthKHz: 125 },
        '2026-11-21T12:00:00.000Z',
      ],
    ]);
    // The emulated counter started 10 µs before wrapping: tmst has wrapped past 0 but is still "after" the start.
    for (const u of uplinks) expect(diffTmst(u.rx.tmst, 4294967295 - 10)).toBeGreaterThan(0);
    expect(uplinks[0]!.rx.tmst).toBeLessThan(60_000_000);
    expect(uplinks[1]!.rx.tmms).toBe(Date.parse('2026-11-21T12:00:00Z') - 315_964_800_000 + 18_000);
    expect(backend.counters().rxpkBadCrc).toBe(1);

    const downlinks: number[] = [];
    emulator.on('downlink', (d) => downlinks.push(d.txpk.frequencyHz));
    expect(await backend.schedule(downlink(GW_B, 5))).toEqual({ gatewayEui: GW_B, status: 'OK', id: 5 });
    expect(await backend.schedule({ ...downlink(GW_B, 6), powerDbm: 30 })).toMatchObject({
      status: 'TX_POWER',
      id: 6,
    });
    expect(downlinks).toEqual([868_100_000, 868_100_000]);

    // Keep-alives keep flowing and are all acknowledged.
    await eventually(() => emulator.counters().pullAcksReceived! >= 3);
    expect(emulator.counters()).toMatchObject({ pushAcksMissing: 0, pullAcksMissing: 0, txAcksSent: 2 });
  });
});
