/**
 * Semtech UDP: how fast PUSH_DATA datagrams are decoded (full validation, Hz-exact freq, base64)
 * against the floor any JSON-based parser pays (UTF-8 decode + JSON.parse of the same bytes), and
 * end-to-end datagrams/s through the real backend over loopback.
 */
import dgram from 'node:dgram';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { decodeDatagram, encodePushData, type RxpkInput } from '../proto/semtech-udp/index.js';
import { type BenchFigure, opsPerSecond } from './figure.js';

const EUI = 'b827ebfffe6c2a01';

function frame(i: number, size: number): RxpkInput {
  return {
    phyPayload: new Uint8Array(size).map((_, k) => (k * 31 + i) & 0xff),
    rx: {
      tmst: (3_000_000_000 + i * 1_000_003) >>> 0,
      time: '2026-11-21T10:15:42.123456Z',
      tmms: 1_447_758_960_123,
      frequencyHz: 867_100_000 + 200_000 * (i % 8),
      channel: i % 8,
      rfChain: i % 2,
      dataRate: { modulation: 'LORA', spreadingFactor: 7 + (i % 6), bandwidthKHz: 125 },
      codingRate: '4/5',
      rssi: -95 - i,
      snr: 6.5 - i,
    },
  };
}

/** A realistic datagram: two frames (23 and 51 bytes, typical sensor uplinks) from a GPS gateway. */
const datagram = encodePushData({ token: 0x1f2e, gatewayEui: EUI, rxpk: [frame(0, 23), frame(1, 51)] });
const jsonBytes = datagram.subarray(12);
const utf8 = new TextDecoder();

async function loopbackDatagramsPerSecond(ms: number): Promise<number> {
  const backend = new SemtechUdpBackend({ port: 0 });
  await backend.start();
  const { port } = backend.address();
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  const window = 32;
  let uplinks = 0;
  backend.on('uplink', () => uplinks++);
  let acked = 0;
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const send = () => {
      sent++;
      client.send(datagram, port, '127.0.0.1');
    };
    client.on('message', () => {
      acked++;
      if (performance.now() - start < ms) send();
      else if (acked === sent) resolve();
    });
    for (let i = 0; i < window; i++) send();
    // A lost datagram on a loaded machine must not hang the bench.
    setTimeout(resolve, ms + 2000).unref();
  });
  const elapsed = performance.now() - start;
  await new Promise<void>((r) => client.close(() => r()));
  await backend.stop();
  if (uplinks !== acked * 2)
    throw new Error(`loopback bench: ${uplinks} uplinks for ${acked} acked datagrams`);
  return (acked * 1000) / elapsed;
}

export async function run(): Promise<BenchFigure[]> {
  // Sanity: the bench measures a datagram that decodes to two good frames.
  const check = decodeDatagram(datagram);
  if (check.type !== 'PUSH_DATA' || check.rxpk.filter((o) => o.status === 'ok').length !== 2) {
    throw new Error('bench datagram does not decode to two frames');
  }
  const baseline = opsPerSecond(() => {
    JSON.parse(utf8.decode(jsonBytes));
  }, 2000);
  const ours = opsPerSecond(() => {
    decodeDatagram(datagram);
  }, 2000);
  const loopback = await loopbackDatagramsPerSecond(3000);
  return [
    {
      name: 'semtech-udp: PUSH_DATA (2 rxpk) decoded',
      value: ours,
      unit: 'datagrams/s',
      baseline: { name: 'UTF-8 decode + JSON.parse of the same JSON', value: baseline },
      ratio: ours / baseline,
      note: `${datagram.length}-byte datagram; ratio < 1 is the cost of validation, exact Hz and base64`,
    },
    {
      name: 'semtech-udp: PUSH_DATA over loopback (ack + decode + 2 uplink events)',
      value: loopback,
      unit: 'datagrams/s',
      note: '32 datagrams in flight, one client socket, backend and client in one process',
    },
  ];
}
