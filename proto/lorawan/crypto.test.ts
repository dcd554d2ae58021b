import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { aesCmac, aesDecryptBlocks, aesEncryptBlocks, cachedCipherContexts } from './crypto.js';
import { loraPacket as lora } from './lora-packet-oracle.test-helpers.js';
import { decodePhy, decryptFrmPayload, encodeDataFrame, verifyDataMic } from './phy.js';

describe('crypto', () => {
  it('agrees with lora-packet (crypto-js + aes-cmac) on random frames, keys and counters', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 60 }),
        fc.integer({ min: 1, max: 223 }),
        (nwkSKey, appSKey, fCnt32, uplink, payload, fPort) => {
          const phy = encodeDataFrame(
            {
              mType: uplink ? 'UnconfirmedDataUp' : 'UnconfirmedDataDown',
              devAddr: '01a2b3c4',
              fCnt32,
              fPort,
              payload,
            },
            { nwkSKey, appSKey },
          );
          const frame = decodePhy(phy);
          if (frame.kind !== 'data') throw new Error('not data');
          expect(verifyDataMic(frame, nwkSKey, fCnt32)).toBe(true);
          expect(decryptFrmPayload(frame, appSKey, fCnt32)).toEqual(payload);
          const msb = Buffer.from([(fCnt32 >>> 16) & 0xff, fCnt32 >>> 24]);
          const theirs = lora.fromWire(Buffer.from(phy));
          expect(lora.verifyMIC(theirs, Buffer.from(nwkSKey), undefined, msb)).toBe(true);
          expect(toHex(new Uint8Array(lora.decrypt(theirs, Buffer.from(appSKey), undefined, msb)))).toBe(
            toHex(payload),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('stays correct when the per-key cipher cache evicts (more keys than it holds)', () => {
    const message = fromHex('6bc1bee22e409f96e93d7e117393172a');
    const key = (i: number) => Uint8Array.from({ length: 16 }, (_, k) => (i >>> (8 * (k % 4))) & 0xff);
    const first = Array.from({ length: 8 }, (_, i) => toHex(aesCmac(key(i), message)));
    for (let i = 8; i < 5000; i++) aesCmac(key(i), message);
    expect(Array.from({ length: 8 }, (_, i) => toHex(aesCmac(key(i), message)))).toEqual(first);
    // RFC 4493 Example 2 still holds after the churn.
    expect(toHex(aesCmac(fromHex('2b7e151628aed2a6abf7158809cf4f3c'), message))).toBe(
      '070a16b46b4d4144f79bdd9dd04a287c',
    );
  });

  it('gives the RFC 4493 tags for every message length, in any order and repeated (the CBC context carries state)', () => {
    const key = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
    const m = fromHex(
      '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
    );
    // RFC 4493 §4, Examples 1-4: empty, 16, 40 and 64 bytes.
    const examples: [number, string][] = [
      [0, 'bb1d6929e95937287fa37d129b756746'],
      [16, '070a16b46b4d4144f79bdd9dd04a287c'],
      [40, 'dfa66747de9ae63030ca32611497c827'],
      [64, '51f0bebf7e3b9d92fc49741779363cfe'],
    ];
    const order = [3, 0, 2, 2, 1, 3, 1, 0, 0, 3];
    for (const i of order) {
      const [length, tag] = examples[i] as [number, string];
      expect(toHex(aesCmac(key, m.subarray(0, length)))).toBe(tag);
      // Another key in between must not disturb this key's state.
      aesCmac(fromHex('000102030405060708090a0b0c0d0e0f'), m.subarray(0, 23));
    }
  });

  it('uses the new key when a key array is changed in place (no stale cached cipher)', () => {
    const message = fromHex('6bc1bee22e409f96e93d7e117393172a');
    const key = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
    expect(toHex(aesCmac(key, message))).toBe('070a16b46b4d4144f79bdd9dd04a287c');
    const other = fromHex('000102030405060708090a0b0c0d0e0f');
    const expected = toHex(aesCmac(Uint8Array.from(other), message));
    key.set(other);
    expect(toHex(aesCmac(key, message))).toBe(expected);
    expect(expected).not.toBe('070a16b46b4d4144f79bdd9dd04a287c');
  });

  it('ECB decrypt inverts encrypt, and whole blocks are required', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f');
    const data = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
    // FIPS-197 Appendix C.1 (AES-128).
    expect(toHex(aesEncryptBlocks(key, data.subarray(0, 16)))).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    expect(aesDecryptBlocks(key, aesEncryptBlocks(key, data))).toEqual(data);
    expect(() => aesEncryptBlocks(key, data.subarray(0, 5))).toThrow(/whole 16-byte blocks/);
  });
  it('keeps one OpenSSL context per session key: CBC for the NwkSKey (MICs), ECB for the AppSKey (payloads)', () => {
    const nwkSKey = new Uint8Array(16).fill(0x5a);
    const appSKey = new Uint8Array(16).fill(0xa5);
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    for (let fCnt32 = 0; fCnt32 < 3; fCnt32++) {
      const phy = encodeDataFrame(
        { mType: 'UnconfirmedDataUp', devAddr: '01a2b3c4', fCnt32, fPort: 2, payload },
        { nwkSKey, appSKey },
      );
      const frame = decodePhy(phy);
      if (frame.kind !== 'data') throw new Error('not data');
      expect(verifyDataMic(frame, nwkSKey, fCnt32)).toBe(true);
      expect(decryptFrmPayload(frame, appSKey, fCnt32)).toEqual(payload);
    }
    expect(cachedCipherContexts(nwkSKey)).toEqual({ ecb: false, cbc: true });
    expect(cachedCipherContexts(appSKey)).toEqual({ ecb: true, cbc: false });
    // The same key for both purposes still gets both, and CMACs stay right after ECB use.
    const both = new Uint8Array(16).fill(0x33);
    const tag = toHex(aesCmac(both, payload));
    aesEncryptBlocks(both, new Uint8Array(16));
    expect(toHex(aesCmac(both, payload))).toBe(tag);
    expect(cachedCipherContexts(both)).toEqual({ ecb: true, cbc: true });
  });
});
