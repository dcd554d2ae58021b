/**
 * Untrusted radio bytes through the whole network server: nothing throws,
 * nothing hangs, every frame ends as exactly one `up` or one `rejected`, and
 * a corrupted copy of a valid frame is never accepted.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRadio, rxMeta } from './fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { NetworkServer } from './network-server.js';
import { addDevice } from './registry.js';
import { TestDevice } from './test-device.test-helpers.js';

const ABP = {
  devEui: '1111111111111111',
  devAddr: '26011bda',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};
const OTAA = {
  devEui: '0102030405060708',
  joinEui: '70b3d57ed0000000',
  appKey: '2b7e151628aed2a6abf7158809cf4f3c',
};

let ns: NetworkServer | undefined;
afterEach(async () => {
  await ns?.stop();
});

async function setup() {
  const repository = new MemoryNetworkRepository();
  await addDevice(repository, {
    devEui: ABP.devEui,
    name: 'a',
    applicationId: 'f',
    activation: { mode: 'abp', ...ABP },
  });
  await addDevice(repository, {
    devEui: OTAA.devEui,
    name: 'o',
    applicationId: 'f',
    activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
  });
  const radio = new FakeRadio();
  const server = new NetworkServer({
    repository,
    radios: [radio],
    dedupWindowMs: 60_000,
    devStatusIntervalMs: 0,
  });
  let outcomes = 0;
  let accepted = 0;
  server.on('up', () => {
    outcomes++;
    accepted++;
  });
  server.on('rejected', () => outcomes++);
  await server.start();
  ns = server;
  return { server, radio, count: () => ({ outcomes, accepted }) };
}

describe('NetworkServer under arbitrary input', () => {
  it('turns any bytes into exactly one outcome per frame, never an internal error', async () => {
    const { server, radio, count } = await setup();
    let sends = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 100_000_000, max: 1_000_000_000 }),
        async (bytes, tmst, frequencyHz) => {
          sends++;
          radio.receive({ phyPayload: bytes, rx: rxMeta({ tmst, frequencyHz }), receivedAtMs: Date.now() });
          await server.settle();
        },
      ),
      { numRuns: 300 },
    );
    expect(count().outcomes).toBe(sends);
    expect(server.counters().internal_errors ?? 0).toBe(0);
  });

  it('survives arbitrary time metadata from gateways', async () => {
    const { server, radio, count } = await setup();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await fc.assert(
      fc.asyncProperty(
        fc.option(
          fc.oneof(
            fc.string(),
            fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
          ),
        ),
        fc.option(fc.oneof(fc.double(), fc.integer())),
        async (time, tmms) => {
          const rx = rxMeta();
          if (time !== null) rx.time = time;
          if (tmms !== null) rx.tmms = tmms;
          radio.receive({
            phyPayload: device.uplink({ payload: new Uint8Array([1]) }),
            rx,
            receivedAtMs: Date.now(),
          });
          await server.settle();
        },
      ),
      { numRuns: 200 },
    );
    expect(count().accepted).toBe(200);
    expect(server.counters().internal_errors ?? 0).toBe(0);
  });

  it('never accepts a valid frame with one bit flipped, nor a truncated or extended one', async () => {
    const { server, radio, count } = await setup();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 0, max: 2 }),
        async (payload, confirmed, position, kind) => {
          const good = device.uplink({ payload, fPort: 1, confirmed });
          let bad: Uint8Array;
          if (kind === 0) {
            bad = new Uint8Array(good);
            const bit = position % (bad.length * 8);
            bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          } else if (kind === 1) {
            bad = good.subarray(0, position % good.length);
          } else {
            bad = new Uint8Array([...good, position & 0xff]);
          }
          const before = count().accepted;
          radio.receive({ phyPayload: bad, rx: rxMeta(), receivedAtMs: Date.now() });
          await server.settle();
          expect(count().accepted).toBe(before);
          // The genuine frame still goes through afterwards: the bad copy changed nothing.
          radio.receive({ phyPayload: good, rx: rxMeta(), receivedAtMs: Date.now() });
          await server.settle();
          expect(count().accepted).toBe(before + 1);
        },
      ),
      { numRuns: 200 },
    );
    expect(server.counters().internal_errors ?? 0).toBe(0);
  });

  it('survives mutated join requests', async () => {
    const { server, radio } = await setup();
    const device = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 0xffff }), fc.nat(183), async (devNonce, bit) => {
        const frame = new Uint8Array(device.joinRequest(devNonce));
        frame[bit >> 3] = (frame[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        radio.receive({ phyPayload: frame, rx: rxMeta(), receivedAtMs: Date.now() });
        await server.settle();
      }),
      { numRuns: 200 },
    );
    expect(server.counters().joins ?? 0).toBe(0);
    expect(server.counters().internal_errors ?? 0).toBe(0);
  });
});
