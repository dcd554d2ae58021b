import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { fromHex, toHex } from './bytes.js';
import { fCntMsbLittleEndian } from './fcnt.js';
import { loraPacket as lora } from './lora-packet-oracle.test-helpers.js';
import { decodePhy, decryptFrmPayload, encodeDataFrame, verifyDataMic } from './phy.js';
import type { DataFrame } from './types.js';

const keys = {
  nwkSKey: fromHex('44024241ed4ce9a68c6a8bc055233fd3'),
  appSKey: fromHex('ec925802ae430ca77fd3dd73cb2cc588'),
};
const devAddr = '49be7df1';

function dataFrame(phy: Uint8Array): DataFrame {
  const frame = decodePhy(phy);
  if (frame.kind !== 'data') throw new Error(`expected data, got ${frame.kind}`);
  return frame;
}

function expectMalformed(phy: Uint8Array, message: RegExp) {
  try {
    decodePhy(phy);
  } catch (err) {
    expect(isMaverickError(err, ErrorCode.LorawanMalformed)).toBe(true);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('decodePhy accepted a malformed frame');
}

describe('encodeDataFrame / decodePhy', () => {
  it('round-trips an uplink with FOpts, port and payload, all FCtrl bits', () => {
    const payload = fromHex('0102030405060708090a0b0c0d0e0f101112');
    const phy = encodeDataFrame(
      {
        mType: 'ConfirmedDataUp',
        devAddr,
        fCnt32: 0x1234,
        fCtrl: { adr: true, adrAckReq: true, ack: true, classB: true },
        fOpts: fromHex('0603'),
        fPort: 42,
        payload,
      },
      keys,
    );
    const frame = dataFrame(phy);
    expect(frame).toMatchObject({
      mType: 'ConfirmedDataUp',
      uplink: true,
      confirmed: true,
      devAddr,
      fPort: 42,
    });
    expect(frame.fCtrl).toEqual({ adr: true, adrAckReq: true, ack: true, classB: true, fPending: false });
    expect(frame.fCnt16).toBe(0x1234);
    expect(toHex(frame.fOpts)).toBe('0603');
    expect(verifyDataMic(frame, keys.nwkSKey, 0x1234)).toBe(true);
    expect(decryptFrmPayload(frame, keys.appSKey, 0x1234)).toEqual(payload);
  });

  it('maps FCtrl bit 4 to fPending on downlinks and ignores ADRACKReq there', () => {
    const phy = encodeDataFrame(
      { mType: 'UnconfirmedDataDown', devAddr, fCnt32: 1, fCtrl: { fPending: true, adrAckReq: true } },
      keys,
    );
    expect(phy[5]).toBe(0x10);
    expect(dataFrame(phy).fCtrl).toMatchObject({ fPending: true, classB: false, adrAckReq: false });
  });

  it('gives a frame without FPort a real MIC (lora-packet leaves EEEEEEEE there)', () => {
    const phy = encodeDataFrame(
      { mType: 'UnconfirmedDataDown', devAddr, fCnt32: 7, fCtrl: { ack: true }, fOpts: fromHex('020a03') },
      keys,
    );
    const frame = dataFrame(phy);
    expect(frame.fPort).toBeUndefined();
    expect(toHex(frame.mic)).not.toBe('eeeeeeee');
    expect(verifyDataMic(frame, keys.nwkSKey, 7)).toBe(true);

    // The trap itself, so we notice if lora-packet ever changes: fromFields leaves the placeholder...
    const theirs = lora.fromFields(
      {
        MType: 'Unconfirmed Data Down',
        DevAddr: Buffer.from(devAddr, 'hex'),
        FCnt: 7,
        FCtrl: { ACK: true },
        FOpts: '020a03',
      },
      Buffer.from(keys.appSKey),
      Buffer.from(keys.nwkSKey),
    );
    expect(theirs.MIC?.toString('hex')).toBe('eeeeeeee');
    // ...(recalculateMIC cannot repair it: that object has no MACPayload), while lora-packet verifies ours.
    expect(() => lora.recalculateMIC(theirs, Buffer.from(keys.nwkSKey))).toThrow();
    expect(lora.verifyMIC(lora.fromWire(Buffer.from(phy)), Buffer.from(keys.nwkSKey))).toBe(true);
  });

  it('puts all 32 counter bits in B0 and Ai (lora-packet needs FCntMSBytes little-endian)', () => {
    const fCnt32 = 0x00012345;
    const payload = fromHex('deadbeef');
    const phy = encodeDataFrame({ mType: 'UnconfirmedDataUp', devAddr, fCnt32, fPort: 5, payload }, keys);
    const frame = dataFrame(phy);
    expect(frame.fCnt16).toBe(0x2345);
    expect(verifyDataMic(frame, keys.nwkSKey, fCnt32)).toBe(true);
    expect(verifyDataMic(frame, keys.nwkSKey, 0x2345)).toBe(false);
    expect(decryptFrmPayload(frame, keys.appSKey, fCnt32)).toEqual(payload);
    expect(decryptFrmPayload(frame, keys.appSKey, 0x2345)).not.toEqual(payload);

    const theirs = lora.fromWire(Buffer.from(phy));
    const msbLE = Buffer.from(fCntMsbLittleEndian(fCnt32));
    expect(toHex(msbLE)).toBe('0100');
    expect(lora.verifyMIC(theirs, Buffer.from(keys.nwkSKey), undefined, msbLE)).toBe(true);
    // Big-endian upper bytes (the intuitive reading) do not verify: the trap.
    expect(lora.verifyMIC(theirs, Buffer.from(keys.nwkSKey), undefined, Buffer.from('0001', 'hex'))).toBe(
      false,
    );
    expect(lora.decrypt(theirs, Buffer.from(keys.appSKey), undefined, msbLE).toString('hex')).toBe(
      'deadbeef',
    );
  });

  it('encrypts port 0 with NwkSKey and agrees with lora-packet', () => {
    const mac = fromHex('0603');
    const phy = encodeDataFrame(
      { mType: 'UnconfirmedDataUp', devAddr, fCnt32: 3, fPort: 0, payload: mac },
      keys,
    );
    const frame = dataFrame(phy);
    expect(decryptFrmPayload(frame, keys.nwkSKey, 3)).toEqual(mac);
    const theirs = lora.fromWire(Buffer.from(phy));
    expect(lora.decrypt(theirs, Buffer.from(keys.appSKey), Buffer.from(keys.nwkSKey)).toString('hex')).toBe(
      '0603',
    );
  });

  it('rejects bad input with LorawanCodec errors', () => {
    const base = { mType: 'UnconfirmedDataUp' as const, devAddr, fCnt32: 1 };
    const cases: [Parameters<typeof encodeDataFrame>[0], RegExp][] = [
      [{ ...base, fOpts: new Uint8Array(16) }, /FOpts of 16 bytes/],
      [{ ...base, payload: fromHex('01') }, /needs an fPort/],
      [{ ...base, fPort: 0, fOpts: fromHex('02'), payload: fromHex('02') }, /FOpts must then be empty/],
      [{ ...base, fCnt32: 2 ** 32 }, /fCnt32/],
      [{ ...base, devAddr: 'xyz' }, /devAddr/],
      [{ ...base, fPort: 256 }, /fPort/],
    ];
    for (const [input, message] of cases) {
      expect(() => encodeDataFrame(input, keys)).toThrow(message);
    }
    expect(() => encodeDataFrame(base, { ...keys, nwkSKey: new Uint8Array(3) })).toThrow(
      /NwkSKey must be 16 bytes/,
    );
  });
});

describe('decodePhy on malformed frames', () => {
  it('names what is wrong', () => {
    expectMalformed(new Uint8Array(0), /empty/);
    expectMalformed(fromHex('41f17dbe4900020001954378762b11ff0d'), /major version 1/);
    expectMalformed(fromHex('40f17dbe490002'), /shorter than the minimum/);
    expectMalformed(fromHex('40f17dbe490f0200aabbccdd'), /FOptsLen 15 runs past/);
    expectMalformed(fromHex('0039363463'), /join-request must be 23 bytes/);
    expectMalformed(fromHex('20e3de10'), /join-accept must be 17 or 33/);
    expectMalformed(fromHex('e0010203'), /Proprietary frames/);
    expectMalformed(fromHex('c0010203'), /RejoinRequest frames/);
    expectMalformed(fromHex('40f17dbe49010200020006aabbccdd'), /FPort 0 with non-empty FOpts/);
  });

  it('copies the input so later reuse of the caller buffer cannot change the frame', () => {
    const buf = fromHex('40f17dbe4900020001954378762b11ff0d');
    const frame = dataFrame(buf);
    buf.fill(0);
    expect(verifyDataMic(frame, keys.nwkSKey, 2)).toBe(true);
  });
});
