/**
 * LoRaWAN 1.0.x codec: the uplink hot path (decode + MIC + decrypt) of
 * proto/lorawan (node:crypto AES) against lora-packet alone (fromWire +
 * verifyMIC + decrypt, crypto-js AES), on the same typical uplink: a 20-byte
 * FRMPayload (33-byte PHYPayload). Also downlink encoding and join-request checks.
 */
import {
  decodePhy,
  decryptFrmPayload,
  encodeDataFrame,
  encodeJoinRequest,
  fromHex,
  verifyDataMic,
  verifyJoinRequest,
} from '../proto/lorawan/index.js';
import { loraPacket } from '../proto/lorawan/lora-packet-oracle.test-helpers.js';
import { type BenchFigure, opsPerSecond } from './figure.js';

const keys = {
  nwkSKey: fromHex('44024241ed4ce9a68c6a8bc055233fd3'),
  appSKey: fromHex('ec925802ae430ca77fd3dd73cb2cc588'),
};
const nwk = Buffer.from(keys.nwkSKey);
const app = Buffer.from(keys.appSKey);
const appKey = fromHex('0102030405060708090a0b0c0d0e0f10');
const fCnt32 = 0x1234;
const payload = new Uint8Array(20).map((_, i) => (i * 37) & 0xff);
const uplink = encodeDataFrame(
  { mType: 'UnconfirmedDataUp', devAddr: '26011f00', fCnt32, fPort: 2, payload },
  keys,
);
const uplinkBuffer = Buffer.from(uplink);
const joinRequest = encodeJoinRequest(
  { joinEui: '70b3d57ed0000000', devEui: '0004a30b001c0530', devNonce: 0x1234 },
  appKey,
);

function oursUplink(): void {
  const frame = decodePhy(uplink);
  if (frame.kind !== 'data' || !verifyDataMic(frame, keys.nwkSKey, fCnt32))
    throw new Error('bench frame rejected');
  decryptFrmPayload(frame, keys.appSKey, fCnt32);
}

function loraPacketUplink(): void {
  const packet = loraPacket.fromWire(uplinkBuffer);
  if (!loraPacket.verifyMIC(packet, nwk)) throw new Error('bench frame rejected by lora-packet');
  loraPacket.decrypt(packet, app, nwk);
}

function oursDownlink(i: number): void {
  encodeDataFrame({ mType: 'UnconfirmedDataDown', devAddr: '26011f00', fCnt32: i, fPort: 2, payload }, keys);
}

function loraPacketDownlink(i: number): void {
  const packet = loraPacket.fromFields(
    {
      MType: 'Unconfirmed Data Down',
      DevAddr: Buffer.from('26011f00', 'hex'),
      FCnt: i & 0xffff,
      FPort: 2,
      payload: Buffer.from(payload),
    },
    app,
    nwk,
  );
  packet.getPHYPayload();
}

function figure(name: string, ours: number, theirs: number, unit: string, note?: string): BenchFigure {
  return {
    name,
    value: ours,
    unit,
    baseline: { name: 'lora-packet 0.9.3', value: theirs },
    ratio: ours / theirs,
    ...(note ? { note } : {}),
  };
}

export async function run(): Promise<BenchFigure[]> {
  // Sanity: both sides accept the frame before anything is timed.
  oursUplink();
  loraPacketUplink();
  const ms = 1500;
  const ours = opsPerSecond(oursUplink, ms);
  const theirs = opsPerSecond(loraPacketUplink, ms);
  let i = 0;
  const oursDown = opsPerSecond(() => oursDownlink(i++), ms);
  const theirsDown = opsPerSecond(() => loraPacketDownlink(i++), ms);
  const frame = decodePhy(joinRequest);
  if (frame.kind !== 'join-request') throw new Error('not a join-request');
  const oursJoin = opsPerSecond(() => {
    const f = decodePhy(joinRequest);
    if (f.kind !== 'join-request' || !verifyJoinRequest(f, appKey)) throw new Error('rejected');
  }, ms);
  const joinBuffer = Buffer.from(joinRequest);
  const appKeyBuffer = Buffer.from(appKey);
  const theirsJoin = opsPerSecond(() => {
    if (!loraPacket.verifyMIC(loraPacket.fromWire(joinBuffer), undefined, appKeyBuffer))
      throw new Error('rejected');
  }, ms);
  return [
    figure(
      'lorawan: uplink decode + MIC + decrypt (20-byte FRMPayload)',
      ours,
      theirs,
      'uplinks/s',
      'one core; ours: node:crypto AES-CMAC/ECB; baseline fromWire + verifyMIC + decrypt',
    ),
    figure('lorawan: downlink encode + encrypt + MIC (20-byte FRMPayload)', oursDown, theirsDown, 'frames/s'),
    figure('lorawan: join-request decode + MIC check', oursJoin, theirsJoin, 'requests/s'),
  ];
}
