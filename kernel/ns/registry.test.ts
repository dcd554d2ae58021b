import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { addDevice, listDevices, removeDevice, validateDevice } from './registry.js';

const otaa = {
  mode: 'otaa' as const,
  joinEui: '70B3D57ED0000000',
  appKey: '2B7E151628AED2A6ABF7158809CF4F3C',
};
const abp = { mode: 'abp' as const, devAddr: '26011BDA', nwkSKey: '00'.repeat(16), appSKey: '11'.repeat(16) };

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    if (isMaverickError(err, ErrorCode.LorawanDeviceInvalid)) return err.context?.field;
    throw err;
  }
  return undefined;
}

describe('validateDevice', () => {
  it('normalises hex to lower case and fills defaults', () => {
    const d = validateDevice({
      devEui: '0102030405060708',
      name: ' probe ',
      applicationId: 'farm',
      activation: otaa,
    });
    expect(d).toEqual({
      devEui: '0102030405060708',
      name: 'probe',
      applicationId: 'farm',
      regionId: 'EU868',
      codec: { kind: 'none' },
      activation: { mode: 'otaa', joinEui: '70b3d57ed0000000', appKey: '2b7e151628aed2a6abf7158809cf4f3c' },
      skipFCntCheck: false,
    });
  });

  it('names the bad field', () => {
    const ok = { devEui: '0102030405060708', name: 'p', applicationId: 'a', activation: otaa };
    expect(fieldOf(() => validateDevice({ ...ok, devEui: '0102' }))).toBe('devEui');
    expect(fieldOf(() => validateDevice({ ...ok, activation: { ...otaa, appKey: 'zz'.repeat(16) } }))).toBe(
      'appKey',
    );
    expect(fieldOf(() => validateDevice({ ...ok, activation: { ...abp, nwkSKey: '00' } }))).toBe('nwkSKey');
    expect(fieldOf(() => validateDevice({ ...ok, activation: { ...abp, devAddr: '123' } }))).toBe('devAddr');
    expect(fieldOf(() => validateDevice({ ...ok, name: '' }))).toBe('name');
    expect(fieldOf(() => validateDevice({ ...ok, regionId: 'AS923' as 'EU868' }))).toBe('regionId');
    expect(fieldOf(() => validateDevice({ ...ok, skipFCntCheck: true }))).toBe('skipFCntCheck');
    expect(fieldOf(() => validateDevice({ ...ok, codec: { kind: 'js', path: '' } }))).toBe('codec');
  });
});

describe('addDevice / listDevices / removeDevice', () => {
  it('creates an ABP session at once and keeps its counters when re-added unchanged', async () => {
    const repo = new MemoryNetworkRepository();
    await addDevice(repo, {
      devEui: '1111111111111111',
      name: 'abp',
      applicationId: 'farm',
      activation: abp,
    });
    const session = await repo.getSession('1111111111111111');
    expect(session?.devAddr).toBe('26011bda');
    if (session) await repo.putSession({ ...session, fCntUp: 42 });
    await addDevice(repo, {
      devEui: '1111111111111111',
      name: 'abp renamed',
      applicationId: 'farm',
      activation: abp,
    });
    expect((await repo.getSession('1111111111111111'))?.fCntUp).toBe(42);
    await addDevice(repo, {
      devEui: '1111111111111111',
      name: 'abp',
      applicationId: 'farm',
      activation: { ...abp, nwkSKey: '22'.repeat(16) },
    });
    expect((await repo.getSession('1111111111111111'))?.fCntUp).toBeUndefined();
  });

  it('lists sorted and removes; removing an unknown device is an error', async () => {
    const repo = new MemoryNetworkRepository();
    await addDevice(repo, { devEui: '0202020202020202', name: 'b', applicationId: 'x', activation: otaa });
    await addDevice(repo, { devEui: '0101010101010101', name: 'a', applicationId: 'x', activation: otaa });
    expect((await listDevices(repo)).map((d) => d.name)).toEqual(['a', 'b']);
    await removeDevice(repo, '0101010101010101');
    expect((await listDevices(repo)).map((d) => d.name)).toEqual(['b']);
    await expect(removeDevice(repo, '0101010101010101')).rejects.toThrow(/no device/);
  });
});
