import { describe, expect, it } from 'vitest';
import { decodePhy } from '../../proto/lorawan/index.js';
import type { CollectedUplink } from './dedup.js';
import { rxMeta } from './fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { addDevice } from './registry.js';
import { sessionKeyBytes } from './session-keys.js';
import { TestDevice } from './test-device.test-helpers.js';
import { hexToBytes } from './types.js';
import { UplinkProcessor, type VerifiedMic } from './uplink.js';

const DEV_EUI = '0011223344556677';
const DEV_ADDR = '26011234';
const OLD = { nwkSKey: '11'.repeat(16), appSKey: '22'.repeat(16) };
const NEW = { nwkSKey: '33'.repeat(16), appSKey: '44'.repeat(16) };

function collected(phy: Uint8Array): CollectedUplink {
  return { phyPayload: phy, rxInfo: [rxMeta()], receivedAtMs: 1_700_000_000_000 };
}

async function processFrame(processor: UplinkProcessor, phy: Uint8Array, verified?: VerifiedMic) {
  const frame = decodePhy(phy);
  if (frame.kind !== 'data') throw new Error('not a data frame');
  return processor.process(collected(phy), frame, verified);
}

/** The probe registered as an ABP device with these keys, and a processor over its repository. */
async function abpProbe(keys: { nwkSKey: string; appSKey: string }) {
  const repository = new MemoryNetworkRepository();
  await addDevice(repository, {
    devEui: DEV_EUI,
    name: 'probe',
    applicationId: 'farm',
    codec: { kind: 'none' },
    activation: { mode: 'abp', devAddr: DEV_ADDR, ...keys },
  });
  return { repository, processor: new UplinkProcessor({ repository }) };
}

describe('session key bytes', () => {
  it('parses each key hex once and hands out the same bytes for it', () => {
    const a = sessionKeyBytes('2b7e151628aed2a6abf7158809cf4f3c');
    expect(a).toEqual(hexToBytes('2b7e151628aed2a6abf7158809cf4f3c'));
    expect(sessionKeyBytes('2b7e151628aed2a6abf7158809cf4f3c')).toBe(a);
    expect(sessionKeyBytes('000102030405060708090a0b0c0d0e0f')).toEqual(
      hexToBytes('000102030405060708090a0b0c0d0e0f'),
    );
  });

  it('never verifies or decrypts with a replaced session key on the same DevAddr', async () => {
    const { repository, processor } = await abpProbe(OLD);
    const before = TestDevice.abp(DEV_EUI, DEV_ADDR, OLD.nwkSKey, OLD.appSKey);
    const payload = Uint8Array.from([1, 2, 3, 4, 5]);

    const first = await processFrame(processor, before.uplink({ fPort: 2, payload }));
    if (first.kind !== 'accepted') throw new Error(`first uplink ${first.kind}`);
    expect(first.uplink.data).toEqual(payload);
    await repository.putSession(first.session);

    // New keys, same DevAddr and device (as a re-registration or a rejoin to the same address).
    const session = await repository.getSession(DEV_EUI);
    if (!session) throw new Error('no session');
    await repository.putSession({ ...session, ...NEW, fCntUp: undefined });

    const stale = await processFrame(processor, before.uplink({ fPort: 2, payload }));
    expect(stale.kind === 'rejected' && stale.rejection.reason).toBe('bad_mic');

    const after = TestDevice.abp(DEV_EUI, DEV_ADDR, NEW.nwkSKey, NEW.appSKey);
    const fresh = await processFrame(processor, after.uplink({ fPort: 2, payload }));
    if (fresh.kind !== 'accepted') throw new Error(`uplink under the new keys ${fresh.kind}`);
    // Decrypted with the new AppSKey: the old one would give other bytes.
    expect(fresh.uplink.data).toEqual(payload);
    expect(fresh.uplink.fCnt).toBe(0);
  });

  it('takes a MIC checked before (at admission) only for that very key and FCnt', async () => {
    const { processor } = await abpProbe(NEW);
    const payload = Uint8Array.from([9, 8, 7]);
    // A frame under the old key, said to be checked under it: the session's key is another one.
    const old = TestDevice.abp(DEV_EUI, DEV_ADDR, OLD.nwkSKey, OLD.appSKey).uplink({ fPort: 2, payload });
    const underOld = await processFrame(processor, old, { nwkSKey: OLD.nwkSKey, fCnt32: 0 });
    expect(underOld.kind === 'rejected' && underOld.rejection.reason).toBe('bad_mic');

    // A frame whose MIC is broken: checked again unless the pair is exactly the one checked.
    const device = TestDevice.abp(DEV_EUI, DEV_ADDR, NEW.nwkSKey, NEW.appSKey);
    const broken = device.uplink({ fPort: 2, payload });
    broken[broken.length - 1]! ^= 0xff;
    const otherFCnt = await processFrame(processor, broken, { nwkSKey: NEW.nwkSKey, fCnt32: 1 });
    expect(otherFCnt.kind === 'rejected' && otherFCnt.rejection.reason).toBe('bad_mic');
    expect((await processFrame(processor, broken)).kind).toBe('rejected');
    const samePair = await processFrame(processor, broken, { nwkSKey: NEW.nwkSKey, fCnt32: 0 });
    expect(samePair.kind).toBe('accepted');
  });
});
