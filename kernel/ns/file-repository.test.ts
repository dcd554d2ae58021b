import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { FileNetworkRepository } from './file-repository.js';
import { defaultDeviceSession } from './session.js';
import { PROBE_DEVICE } from './test-device.test-helpers.js';
import type { Device } from './types.js';

const device: Device = PROBE_DEVICE;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-repo-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileNetworkRepository', () => {
  it('persists devices, sessions, DevNonces and JoinNonces across reopen', async () => {
    const path = join(dir, 'state', 'network.json');
    const repo = await FileNetworkRepository.open(path);
    await repo.putDevice(device);
    await repo.putSession(
      defaultDeviceSession(device, {
        devAddr: '00000001',
        nwkSKey: '11'.repeat(16),
        appSKey: '22'.repeat(16),
      }),
    );
    await repo.addDevNonce(device.devEui, 7);
    expect(await repo.nextJoinNonce(device.devEui)).toBe(1);
    expect(await repo.nextJoinNonce(device.devEui)).toBe(2);
    await repo.close();

    const again = await FileNetworkRepository.open(path);
    expect(await again.getDevice(device.devEui)).toEqual(device);
    expect((await again.devicesByDevAddr('00000001')).map((a) => a.device.devEui)).toEqual([device.devEui]);
    expect(await again.hasDevNonce(device.devEui, 7)).toBe(true);
    expect(await again.hasDevNonce(device.devEui, 8)).toBe(false);
    expect(await again.nextJoinNonce(device.devEui)).toBe(3);
    expect(await again.removeDevice(device.devEui)).toBe(true);
    expect(await again.getSession(device.devEui)).toBeUndefined();
    expect(await again.removeDevice(device.devEui)).toBe(false);
    await again.close();
    expect(await readdir(join(dir, 'state'))).toEqual(['network.json']); // no temp file left behind
  });

  it('coalesces concurrent writes and every caller sees its change on disk', async () => {
    const path = join(dir, 'network.json');
    const repo = await FileNetworkRepository.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => repo.addDevNonce(device.devEui, i)));
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as { devNonces: Record<string, number[]> };
    expect(onDisk.devNonces[device.devEui]).toHaveLength(50);
    await repo.close();
  });

  it('returns copies: changing a returned object does not change the store', async () => {
    const repo = await FileNetworkRepository.open(join(dir, 'n.json'));
    await repo.putDevice(device);
    const d = await repo.getDevice(device.devEui);
    if (d) d.name = 'changed';
    expect((await repo.getDevice(device.devEui))?.name).toBe('probe');
    await repo.close();
  });

  it('refuses a corrupt state file with StoreCorrupt instead of starting empty', async () => {
    const path = join(dir, 'network.json');
    await writeFile(path, '{"version":1,"devi');
    const err = await FileNetworkRepository.open(path).catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.StoreCorrupt)).toBe(true);
    await writeFile(path, '{"version":9}');
    const err2 = await FileNetworkRepository.open(path).catch((e: unknown) => e);
    expect(isMaverickError(err2, ErrorCode.StoreCorrupt)).toBe(true);
  });

  it('reports a write failure as a MaverickError and refuses writes after close', async () => {
    const repo = await FileNetworkRepository.open(join(dir, 'gone', 'network.json'));
    await rm(join(dir, 'gone'), { recursive: true });
    const err = await repo.putDevice(device).catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.StoreIo)).toBe(true);
    await repo.close();
    const closed = await repo.putDevice(device).catch((e: unknown) => e);
    expect(isMaverickError(closed, ErrorCode.StoreClosed)).toBe(true);
  });
});
