import { describe, expect, it } from 'vitest';
import {
  decodeJoinAccept,
  decodePhy,
  encodeJoinRequest,
  type JoinRequestFrame,
} from '../../proto/lorawan/index.js';
import { getRegion } from '../../proto/regions/index.js';
import { cfListChannels, JoinServer } from './join-server.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { addDevice } from './registry.js';
import { sessionParameters } from './session.js';
import { hexToBytes } from './types.js';

const appKey = '2b7e151628aed2a6abf7158809cf4f3c';
const devEui = '0102030405060708';
const joinEui = '70b3d57ed0000000';

function request(devNonce: number, key = appKey, eui = joinEui): JoinRequestFrame {
  const frame = decodePhy(encodeJoinRequest({ joinEui: eui, devEui, devNonce }, hexToBytes(key)));
  if (frame.kind !== 'join-request') throw new Error('not a join request');
  return frame;
}

async function setup() {
  const repository = new MemoryNetworkRepository();
  await addDevice(repository, {
    devEui,
    name: 'd',
    applicationId: 'a',
    activation: { mode: 'otaa', joinEui, appKey },
  });
  const server = new JoinServer({
    repository,
    netId: '000013',
    parametersFor: () => sessionParameters('EU868', { rx1DrOffset: 1, rx2Dr: 3, rxDelay: 2 }),
  });
  return { repository, server };
}

describe('JoinServer', () => {
  it('accepts with the configured settings, increments JoinNonce and stores the DevNonce', async () => {
    const { repository, server } = await setup();
    const first = await server.handle(request(1));
    const second = await server.handle(request(2));
    if (!first.ok || !second.ok) throw new Error('join refused');
    expect([first.joinNonce, second.joinNonce]).toEqual([1, 2]);
    const fields = decodeJoinAccept(second.joinAccept, hexToBytes(appKey));
    expect(fields).toMatchObject({
      appNonce: 2,
      netId: '000013',
      rx1DrOffset: 1,
      rx2DataRate: 3,
      rxDelay: 2,
    });
    expect(Number.parseInt(fields.devAddr, 16) >>> 25).toBe(0x13);
    expect(await repository.hasDevNonce(devEui, 1)).toBe(true);
    const session = await repository.getSession(devEui);
    expect(session).toMatchObject({
      devAddr: fields.devAddr,
      rx2Dr: 3,
      rxDelay: 2,
      rx2FrequencyHz: 869_525_000,
      nFCntDown: 0,
    });
  });

  it('refuses a wrong AppKey, a foreign JoinEUI, an unknown device and a reused DevNonce', async () => {
    const { server } = await setup();
    const reasons = [];
    for (const frame of [request(5, '00'.repeat(16)), request(5, appKey, '0000000000000001')]) {
      const out = await server.handle(frame);
      reasons.push(out.ok ? 'ok' : out.rejection.reason);
    }
    const unknown = await server.handle({ ...request(5), devEui: 'ffffffffffffffff' });
    reasons.push(unknown.ok ? 'ok' : unknown.rejection.reason);
    expect((await server.handle(request(5))).ok).toBe(true);
    const reused = await server.handle(request(5));
    reasons.push(reused.ok ? 'ok' : reused.rejection.reason);
    expect(reasons).toEqual(['bad_mic', 'unknown_device', 'unknown_device', 'devnonce_reused']);
  });

  it('reads the CFList channels the region hands out', () => {
    const cf = getRegion('EU868').joinAcceptCfList();
    expect(cf && cfListChannels(cf)).toEqual({
      '3': 867_100_000,
      '4': 867_300_000,
      '5': 867_500_000,
      '6': 867_700_000,
      '7': 867_900_000,
    });
    expect(cfListChannels(new Uint8Array(16).fill(1))).toEqual({});
  });
});
