import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { fromHex, toHex } from './bytes.js';
import {
  decodeJoinAccept,
  deriveSessionKeys,
  encodeJoinAccept,
  encodeJoinRequest,
  verifyJoinRequest,
} from './join.js';
import { loraPacket as lora } from './lora-packet-oracle.test-helpers.js';
import { decodePhy } from './phy.js';

const appKey = fromHex('0102030405060708090a0b0c0d0e0f10');

describe('OTAA', () => {
  it('round-trips a join-accept with a CFList and all DLSettings bits', () => {
    const cfList = fromHex('184f84e85684b85e84886684586e8400');
    const fields = {
      appNonce: 0xabcdef,
      netId: '000013',
      devAddr: '26011b2c',
      rx1DrOffset: 5,
      rx2DataRate: 3,
      rxDelay: 2,
      cfList,
    };
    const phy = encodeJoinAccept(fields, appKey);
    expect(phy.length).toBe(33);
    expect(decodePhy(phy).kind).toBe('join-accept');
    expect(decodeJoinAccept(phy, appKey)).toEqual(fields);
  });

  it('rejects a join-accept under the wrong key with LorawanBadMic', () => {
    const phy = encodeJoinAccept(
      { appNonce: 1, netId: '000000', devAddr: '00000001', rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1 },
      appKey,
    );
    const wrong = new Uint8Array(16).fill(7);
    try {
      decodeJoinAccept(phy, wrong);
      throw new Error('accepted');
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.LorawanBadMic)).toBe(true);
    }
    expect(() => decodeJoinAccept(phy.subarray(0, 16), appKey)).toThrow(/not a 1.0.x join-accept/);
  });

  it('agrees with lora-packet on join-request MIC and session keys for many inputs', () => {
    for (let i = 0; i < 50; i++) {
      const devNonce = (i * 7919) & 0xffff;
      const phy = encodeJoinRequest(
        { joinEui: '70b3d57ed0000000', devEui: `00000000000000${i.toString(16).padStart(2, '0')}`, devNonce },
        appKey,
      );
      const frame = decodePhy(phy);
      if (frame.kind !== 'join-request') throw new Error('not a join-request');
      expect(verifyJoinRequest(frame, appKey)).toBe(true);
      expect(lora.verifyMIC(lora.fromWire(Buffer.from(phy)), undefined, Buffer.from(appKey))).toBe(true);

      const appNonce = (i * 104729) & 0xffffff;
      const ours = deriveSessionKeys(appKey, appNonce, '00abcd', devNonce);
      const le = (v: number, n: number) =>
        Buffer.from(Array.from({ length: n }, (_, k) => (v >>> (8 * k)) & 0xff).reverse());
      const theirs = lora.generateSessionKeys10(
        Buffer.from(appKey),
        Buffer.from('00abcd', 'hex'),
        le(appNonce, 3),
        le(devNonce, 2),
      );
      expect(toHex(ours.nwkSKey)).toBe(theirs.NwkSKey.toString('hex'));
      expect(toHex(ours.appSKey)).toBe(theirs.AppSKey.toString('hex'));
    }
  });

  it('validates its inputs', () => {
    expect(() =>
      encodeJoinRequest({ joinEui: '00', devEui: '0000000000000000', devNonce: 1 }, appKey),
    ).toThrow(/joinEui/);
    expect(() =>
      encodeJoinRequest({ joinEui: '0000000000000000', devEui: '0000000000000000', devNonce: 70000 }, appKey),
    ).toThrow(/devNonce/);
    expect(() => deriveSessionKeys(appKey, 2 ** 24, '000000', 1)).toThrow(/appNonce/);
    expect(() =>
      encodeJoinAccept(
        {
          appNonce: 1,
          netId: '000000',
          devAddr: '00000001',
          rx1DrOffset: 0,
          rx2DataRate: 0,
          rxDelay: 1,
          cfList: new Uint8Array(3),
        },
        appKey,
      ),
    ).toThrow(/CFList must be 16 bytes/);
  });
});
