/**
 * Example messages, one or more of every type, used by the codec tests, the fuzz
 * seeds and bench/serial.bench.ts (and handy when writing firmware test vectors).
 */
import type { SerialMessage } from './messages.js';

const phy = Uint8Array.from([
  0x40, 0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0x00, 0x01, 0xaa, 0x00, 0xbb, 0xcc, 0xdd, 0xee,
]);

/** One of every message type, with non-trivial values (zeros inside, negative rssi/snr, GPS time). */
export const sampleMessages: SerialMessage[] = [
  { type: 'hello-request', seq: 1 },
  {
    type: 'hello',
    seq: 1,
    firmware: { major: 2, minor: 10, patch: 0 },
    protocolVersion: 1,
    capabilities: { timedTx: true, gps: true, fsk: false, lbt: false },
    channels: 8,
    rfChains: 2,
    regions: ['EU868', 'IN865'],
    maxPayload: 255,
  },
  { type: 'ping', seq: 0xffff },
  { type: 'pong', seq: 0xffff, tmst: 0xfffffff0 },
  {
    type: 'rxpk',
    seq: 7,
    tmst: 123456789,
    frequencyHz: 868_100_000,
    channel: 0,
    rfChain: 1,
    dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
    codingRate: '4/5',
    rssi: -113,
    snr: -7.25,
    crc: 'ok',
    tmms: 1_400_000_000_123,
    payload: phy,
  },
  {
    type: 'rxpk',
    seq: 8,
    tmst: 0,
    frequencyHz: 868_800_000,
    channel: 9,
    rfChain: 0,
    dataRate: { modulation: 'FSK', bitrate: 50_000 },
    rssi: -60,
    snr: 0,
    crc: 'bad',
    payload: new Uint8Array(255).fill(0),
  },
  {
    type: 'txpk',
    seq: 9,
    id: 4242,
    immediate: false,
    tmst: 124456789,
    frequencyHz: 869_525_000,
    rfChain: 0,
    powerDbm: 27,
    dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
    codingRate: '4/5',
    invertPolarity: true,
    preamble: 8,
    payload: phy,
  },
  { type: 'txpk-ack', seq: 9, id: 4242, status: 'TOO_LATE' },
  {
    type: 'stat',
    seq: 10,
    rxReceived: 100,
    rxOk: 90,
    rxForwarded: 90,
    txReceived: 5,
    txEmitted: 4,
    hostFramesBad: 1,
    uptimeS: 86_400,
  },
];
