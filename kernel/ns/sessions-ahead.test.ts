import { describe, expect, it } from 'vitest';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { defaultDeviceSession } from './session.js';
import { SessionsAhead } from './sessions-ahead.js';
import { PROBE_DEVICE } from './test-device.test-helpers.js';
import { cloneSession, type Device } from './types.js';

const device: Device = PROBE_DEVICE;

async function fixture() {
  const repository = new MemoryNetworkRepository();
  await repository.putDevice(device);
  const stored = defaultDeviceSession(
    device,
    { devAddr: '26011234', nwkSKey: '11'.repeat(16), appSKey: '22'.repeat(16) },
    undefined,
    new Date('2026-01-01T00:00:00Z'),
  );
  await repository.putSession(stored);
  return { repository, stored, sessions: new SessionsAhead(repository) };
}

describe('SessionsAhead', () => {
  it('answers the session ahead of the store: a copy to change, or itself read-only', async () => {
    const { sessions } = await fixture();
    const [before] = await sessions.devicesByDevAddr('26011234', true);
    expect(before?.session.fCntUp).toBeUndefined();

    const advanced = cloneSession(before!.session);
    advanced.fCntUp = 5;
    const entry = sessions.advance(advanced);

    const [copy] = await sessions.devicesByDevAddr('26011234');
    expect(copy?.session.fCntUp).toBe(5);
    expect(copy?.session).not.toBe(advanced);
    copy!.session.fCntUp = 6;
    copy!.device.name = 'changed';
    const [readOnly] = await sessions.devicesByDevAddr('26011234', true);
    expect(readOnly?.session).toBe(advanced);
    expect(readOnly?.session.fCntUp).toBe(5);
    expect(readOnly?.device.name).toBe('probe');
    expect((await sessions.getSession(device.devEui))?.fCntUp).toBe(5);

    sessions.settle(entry);
    expect(sessions.size()).toBe(0);
    const [settled] = await sessions.devicesByDevAddr('26011234', true);
    expect(settled?.session.fCntUp).toBeUndefined();
  });

  it('lays nothing over a different session of the device (a rejoin)', async () => {
    const { repository, stored, sessions } = await fixture();
    sessions.advance({ ...cloneSession(stored), fCntUp: 9 });
    await repository.putSession({ ...cloneSession(stored), joinedAt: '2026-02-01T00:00:00.000Z' });
    const [found] = await sessions.devicesByDevAddr('26011234', true);
    expect(found?.session.fCntUp).toBeUndefined();
    expect(found?.session.joinedAt).toBe('2026-02-01T00:00:00.000Z');
    expect((await sessions.getSession(device.devEui))?.fCntUp).toBeUndefined();
  });
});
