import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { type LogLine, recordingLogger } from '../../proto/log.test-helpers.js';
import type { GatewayStats, RadioStateChange, RadioUplink, TxRequest } from '../../proto/radio.js';
import { decodeDatagram, encodePullData, encodePushData } from '../../proto/semtech-udp/index.js';
import { eventually as until } from '../../test/helpers/wait.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { SEMTECH_UDP_COUNTER_NAMES, WarnLimiter } from './semtech-udp-counters.js';
import { readForwardedPushData } from './semtech-udp-forwarded.js';

const EUI = '0011223344556677';
const tx: TxRequest = {
  gatewayEui: EUI,
  tmst: 1,
  frequencyHz: 869_525_000,
  powerDbm: 27,
  dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
  codingRate: '4/5',
  invertPolarity: true,
  phyPayload: new Uint8Array([0x20, 1, 2]),
};

const open: Array<{ close(cb?: () => void): void }> = [];
const backends: SemtechUdpBackend[] = [];

async function started(options: ConstructorParameters<typeof SemtechUdpBackend>[0] = {}) {
  const b = new SemtechUdpBackend({ port: 0, ...options });
  backends.push(b);
  await b.start();
  return b;
}

async function socketTo(backend: SemtechUdpBackend, type: 'udp4' | 'udp6' = 'udp4') {
  const s = dgram.createSocket(type);
  open.push(s);
  const { host, port } = backend.address();
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  const send = (bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => s.send(bytes, port, host, (e) => (e ? reject(e) : resolve())));
  return { socket: s, replies, send };
}

afterEach(async () => {
  for (const s of open.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  for (const b of backends.splice(0)) await b.stop();
});

describe('SemtechUdpBackend', () => {
  it('reports state changes and refuses address() before start', async () => {
    const b = new SemtechUdpBackend({ port: 0 });
    backends.push(b);
    const states: RadioStateChange[] = [];
    b.on('state', (s) => states.push(s));
    expect(() => b.address()).toThrow(/before start/);
    await b.start();
    await b.stop();
    expect(states.map((s) => s.state)).toEqual(['starting', 'up', 'stopped']);
    expect(b.state).toBe('stopped');
  });

  it('fails to bind a taken port with RadioBind and an actionable message', async () => {
    const first = await started();
    const second = new SemtechUdpBackend({ port: first.address().port });
    const err = await second.start().catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.RadioBind)).toBe(true);
    expect(String((err as Error).message)).toMatch(/cannot bind 127\.0\.0\.1:\d+ .*another process/);
    expect(second.state).toBe('down');
  });

  it('binds IPv6 loopback too', async () => {
    const b = await started({ host: '::1' });
    const gw = await socketTo(b, 'udp6');
    await gw.send(encodePullData({ token: 5, gatewayEui: EUI }));
    await until(() => gw.replies.length === 1);
    expect(decodeDatagram(gw.replies[0]!)).toEqual({ type: 'PULL_ACK', version: 2, token: 5 });
  });

  it('drops gateways off the allowlist unanswered, counts them, and logs them at a limited rate', async () => {
    const lines: LogLine[] = [];
    const now = 5_000_000;
    const b = await started({ logger: recordingLogger(lines), allowedGateways: [EUI], now: () => now });
    const gw = await socketTo(b);
    for (let i = 0; i < 200; i++) {
      const stranger = `ffff${i.toString(16).padStart(12, '0')}`;
      await gw.send(encodePullData({ token: i, gatewayEui: stranger }));
    }
    await gw.send(encodePullData({ token: 999, gatewayEui: EUI.toUpperCase() }));
    await until(() => gw.replies.length === 1);
    expect(decodeDatagram(gw.replies[0]!)).toMatchObject({ type: 'PULL_ACK', token: 999 });
    expect(b.counters()).toMatchObject({
      datagramsUnknownGateway: 200,
      datagramsPullData: 1,
      gatewaysKnown: 1,
    });
    // The clock did not move: one window of at most 5 warnings for 200 strangers.
    expect(lines.filter((l) => l.msg?.includes('not on the allowlist'))).toHaveLength(5);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(2); // listening, route open
  });

  it('counts and logs broken datagrams (rate-limited) and keeps serving', async () => {
    const lines: LogLine[] = [];
    const b = await started({ logger: recordingLogger(lines) });
    const gw = await socketTo(b);
    const header = [2, 0, 7, 0, ...Buffer.from(EUI, 'hex')];
    for (let i = 0; i < 25; i++) await gw.send(new Uint8Array([9, 9, 9, 9, i]));
    await gw.send(new Uint8Array([...header, ...Buffer.from('{"rxpk":[{')])); // broken JSON, valid header
    await gw.send(new Uint8Array([2, 0, 1, 1])); // a PUSH_ACK sent to the server
    await gw.send(encodePullData({ token: 8, gatewayEui: EUI }));
    await until(() => gw.replies.length === 2);
    // Broken JSON is still acknowledged (ack before processing), then counted and dropped.
    expect(gw.replies.map((r) => decodeDatagram(r).type)).toEqual(['PUSH_ACK', 'PULL_ACK']);
    expect(b.counters()).toMatchObject({
      datagramsReceived: 28,
      malformedDatagrams: 26,
      datagramsUnexpectedType: 1,
      datagramsPullData: 1,
    });
    expect(lines.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(10);
  });

  it('drops bad rxpk entries but forwards their siblings, and survives a throwing listener', async () => {
    const b = await started();
    let forwarded = 0;
    b.on('uplink', () => {
      forwarded++;
      throw new Error('listener bug');
    });
    const gw = await socketTo(b);
    const rxpk = (over: Record<string, unknown>) => ({
      tmst: 1,
      freq: 868.1,
      stat: 1,
      datr: 'SF7BW125',
      codr: '4/5',
      rssi: -50,
      lsnr: 1,
      size: 1,
      data: 'AA==',
      ...over,
    });
    const body = {
      rxpk: [rxpk({}), rxpk({ size: 2 }), rxpk({ stat: -1 }), rxpk({ stat: 0 }), rxpk({ tmst: 2 })],
    };
    await gw.send(
      new Uint8Array([2, 0, 3, 0, ...Buffer.from(EUI, 'hex'), ...Buffer.from(JSON.stringify(body))]),
    );
    await until(() => b.counters().rxpkReceived === 5);
    expect(forwarded).toBe(2);
    expect(b.counters()).toMatchObject({
      rxpkForwarded: 2,
      rxpkDropped: 1,
      rxpkBadCrc: 1,
      rxpkNoCrc: 1,
      listenerErrors: 2,
    });
  });

  it('hands a checked PUSH_DATA over as bytes when asked (the receive thread), counted as when it emits', async () => {
    const handed: Array<{ datagram: Buffer; receivedAtMs: number; uplinks: number }> = [];
    const b = await started({
      now: () => 1_000,
      forwardPushData: (datagram, receivedAtMs, uplinks) =>
        handed.push({ datagram: Buffer.from(datagram), receivedAtMs, uplinks }),
    });
    const emitted: unknown[] = [];
    b.on('uplink', (u) => emitted.push(u));
    b.on('stats', (s) => emitted.push(s));
    const gw = await socketTo(b);
    const rx = {
      tmst: 7,
      frequencyHz: 868_100_000,
      channel: 0,
      rfChain: 0,
      dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 } as const,
      codingRate: '4/5',
      rssi: -50,
      snr: 1,
    };
    const rxpk = [
      { phyPayload: new Uint8Array([0x40, 1]), rx },
      { phyPayload: new Uint8Array([0x40, 2]), rx, crc: 'bad' as const },
      { phyPayload: new Uint8Array([0x40, 3]), rx: { ...rx, tmst: 8 } },
    ];
    const stat = {
      time: '2026-12-05 14:00:00 GMT',
      rxReceived: 3,
      rxOk: 2,
      rxForwarded: 2,
      ackRatio: 100,
      downlinksReceived: 0,
      txEmitted: 0,
    };
    const withUplinks = encodePushData({ token: 1, gatewayEui: EUI, rxpk });
    const onlyBadCrc = encodePushData({ token: 2, gatewayEui: EUI, rxpk: [rxpk[1]!] });
    const onlyStat = encodePushData({ token: 3, gatewayEui: EUI, stat });
    const broken = new Uint8Array([...withUplinks.subarray(0, 12), ...Buffer.from('{"rxpk":[1,')]);
    for (const datagram of [withUplinks, onlyBadCrc, onlyStat, broken]) await gw.send(datagram);
    await until(() => gw.replies.length === 4);
    await until(() => b.counters().malformedDatagrams === 1);
    // Every PUSH_DATA answered; the two with something to forward handed over whole.
    expect(handed.map((h) => [h.uplinks, h.receivedAtMs])).toEqual([
      [2, 1_000],
      [0, 1_000],
    ]);
    expect(Buffer.compare(handed[0]!.datagram, Buffer.from(withUplinks))).toBe(0);
    expect(emitted).toEqual([]);
    expect(b.counters()).toMatchObject({
      datagramsPushData: 3,
      rxpkReceived: 4,
      rxpkForwarded: 2,
      rxpkBadCrc: 2,
      statReceived: 1,
      malformedDatagrams: 1,
      pushAcksSent: 4,
    });
    // The event loop's half decodes the bytes into what the backend would have emitted.
    const uplinks: RadioUplink[] = [];
    const stats: GatewayStats[] = [];
    for (const h of handed) {
      readForwardedPushData(h.datagram, h.receivedAtMs, {
        uplink: (u) => uplinks.push(u),
        stats: (s) => stats.push(s),
      });
    }
    expect(
      uplinks.map((u) => [Buffer.from(u.phyPayload).toString('hex'), u.rx.tmst, u.receivedAtMs]),
    ).toEqual([
      ['4001', 7, 1_000],
      ['4003', 8, 1_000],
    ]);
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ rxReceived: 3, receivedAtMs: 1_000 });
  });

  it('resolves NO_ROUTE for an unknown gateway, UNSUPPORTED when not started', async () => {
    const idle = new SemtechUdpBackend({ port: 0 });
    expect(await idle.schedule({ ...tx, id: 3 })).toEqual({ gatewayEui: EUI, status: 'UNSUPPORTED', id: 3 });
    const b = await started();
    expect(await b.schedule(tx)).toEqual({ gatewayEui: EUI, status: 'NO_ROUTE' });
    expect(b.counters().txNoRoute).toBe(1);
  });

  it('rejects a malformed TxRequest with a typed error instead of sending it', async () => {
    const b = await started();
    const gw = await socketTo(b);
    await gw.send(encodePullData({ token: 1, gatewayEui: EUI }));
    await until(() => gw.replies.length === 1);
    const err = await b.schedule({ ...tx, frequencyHz: 868.1 }).catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.WireBadField)).toBe(true);
    expect(String((err as Error).message)).toMatch(/frequencyHz/);
    expect(b.counters()).toMatchObject({ pullRespSent: 0, txPending: 0 });
  });

  it('times out without a TX_ACK, and stop() settles pending downlinks with TIMEOUT', async () => {
    const b = await started({ txAckTimeoutMs: 50 });
    const gw = await socketTo(b);
    await gw.send(encodePullData({ token: 1, gatewayEui: EUI }));
    await until(() => gw.replies.length === 1);
    expect(await b.schedule(tx)).toEqual({ gatewayEui: EUI, status: 'TIMEOUT' });

    const slow = await started({ txAckTimeoutMs: 60_000 });
    const gw2 = await socketTo(slow);
    await gw2.send(encodePullData({ token: 1, gatewayEui: EUI }));
    await until(() => gw2.replies.length === 1);
    const pending = slow.schedule(tx);
    await until(() => gw2.replies.length === 2);
    expect(slow.counters().txPending).toBe(1);
    await slow.stop();
    expect(await pending).toEqual({ gatewayEui: EUI, status: 'TIMEOUT' });
    expect(await slow.schedule(tx)).toMatchObject({ status: 'UNSUPPORTED' });
  });

  it('answers a v1 forwarder in v1 and treats a sent PULL_RESP as done (v1 has no TX_ACK)', async () => {
    const b = await started();
    const gw = await socketTo(b);
    await gw.send(encodePullData({ token: 1, gatewayEui: EUI, version: 1 }));
    await until(() => gw.replies.length === 1);
    expect(await b.schedule(tx)).toEqual({ gatewayEui: EUI, status: 'OK' });
    await until(() => gw.replies.length === 2);
    expect(gw.replies[1]![0]).toBe(1);
    expect(decodeDatagram(gw.replies[1]!).type).toBe('PULL_RESP');
    expect(b.counters().txSentWithoutAckV1).toBe(1);
  });

  it('reads its counters into an array in SEMTECH_UDP_COUNTER_NAMES order, saying whether any moved', async () => {
    const b = await started();
    const values: number[] = [];
    const routes = b.routesVersion;
    expect(b.readCounters(values)).toBe(true);
    expect(b.readCounters(values)).toBe(false);
    const gw = await socketTo(b);
    await gw.send(encodePullData({ token: 1, gatewayEui: EUI }));
    // Counted when the socket reports the PULL_ACK sent.
    await until(() => b.counters().pullAcksSent === 1);
    expect(b.readCounters(values)).toBe(true);
    const counters = b.counters();
    expect(Object.keys(counters)).toEqual(SEMTECH_UDP_COUNTER_NAMES);
    expect(values).toEqual(SEMTECH_UDP_COUNTER_NAMES.map((name) => counters[name]));
    expect(counters).toMatchObject({ datagramsPullData: 1, pullAcksSent: 1, gatewaysKnown: 1 });
    expect(b.routesVersion).not.toBe(routes);
    expect(b.readCounters(values)).toBe(false);
  });

  it('acknowledges PUSH_DATA before decoding it: the ack echoes token and version even for a bad body', async () => {
    const b = await started();
    const gw = await socketTo(b);
    const good = encodePushData({ token: 0x4242, gatewayEui: EUI, version: 1 });
    const broken = new Uint8Array([...good.subarray(0, 12), ...Buffer.from('{"rxpk":[1,')]);
    await gw.send(broken);
    await until(() => gw.replies.length === 1 && b.counters().malformedDatagrams === 1);
    expect([...gw.replies[0]!]).toEqual([1, 0x42, 0x42, 0x01]);
  });
});

describe('WarnLimiter', () => {
  it('lets perWindow warnings through per window and reports how many it swallowed', () => {
    const lines: LogLine[] = [];
    const fields: Array<Record<string, unknown>> = [];
    const logger = recordingLogger(lines);
    const warn = logger.warn;
    logger.warn = ((a: Record<string, unknown>, b?: string) => {
      fields.push(a);
      warn(a, b);
    }) as Logger['warn'];
    let now = 0;
    const limiter = new WarnLimiter(logger, 2, 1000, () => now);
    for (let i = 0; i < 5; i++) limiter.warn({}, 'x');
    expect(lines).toHaveLength(2);
    now = 1000;
    limiter.warn({ n: 1 }, 'y');
    expect(lines).toHaveLength(3);
    expect(fields[2]).toEqual({ n: 1, suppressedSinceLast: 3 });
  });
});
