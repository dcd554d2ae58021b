/**
 * The farm against a scripted network built from proto/ alone (the kernel's
 * network server is exercised by the end-to-end suites in test/): it answers
 * on in-memory radio paths, sometimes at the right instant and sometimes not,
 * and the farm must deliver exactly the frames that land in a receive window.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../proto/errors.js';
import { decodePhy, encodeDataFrame, encodeJoinAccept, type SessionKeys } from '../proto/lorawan/index.js';
import { addTmst } from '../proto/radio.js';
import { getRegion } from '../proto/regions/index.js';
import { SimClock } from './clock.js';
import { FarmSimulation, generateFarmDevices } from './farm.js';
import type { FarmDeviceSpec } from './farm-spec.js';
import { hexToBytes } from './farm-spec.js';
import type { AirReception, PathDownlink, RadioPath, RadioPathEvents } from './radio-link.js';

interface Heard {
  phy: Uint8Array;
  rx: AirReception;
}

/** A radio path in memory: records what devices send, lets the test transmit. */
class MemoryPath extends EventEmitter<RadioPathEvents> implements RadioPath {
  readonly kind = 'udp' as const;
  readonly gatewayEui = '0000000000000001';
  readonly heard: Heard[] = [];
  onHeard: ((h: Heard) => void) | undefined;
  constructor(
    readonly name: string,
    private readonly clock: SimClock,
    private readonly offset = 0,
  ) {
    super();
  }
  tmstAt(atMs: number): number {
    return addTmst(this.offset, ((atMs - this.clock.startMs) * 1000) % 2 ** 32);
  }
  async send(phy: Uint8Array, rx: AirReception): Promise<void> {
    const h = { phy, rx };
    this.heard.push(h);
    this.onHeard?.(h);
  }
  transmit(dl: PathDownlink): void {
    this.emit('downlink', dl);
  }
  detach(): void {}
}

const RX2 = {
  frequencyHz: 869_525_000,
  dataRate: { modulation: 'LORA' as const, spreadingFactor: 12, bandwidthKHz: 125 },
};

function joinAcceptFor(spec: FarmDeviceSpec, devAddr: string): Uint8Array {
  if (spec.activation !== 'otaa') throw new Error('not OTAA');
  return encodeJoinAccept(
    { appNonce: 1, netId: '000000', devAddr, rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1 },
    hexToBytes(spec.appKey),
  );
}

function ack(keys: SessionKeys & { devAddr: string }, fCnt32: number): Uint8Array {
  return encodeDataFrame(
    { mType: 'UnconfirmedDataDown', devAddr: keys.devAddr, fCnt32, fCtrl: { ack: true } },
    keys,
  );
}

function farmOf(count: number, seed = 1, offset = 0) {
  const clock = new SimClock({ startMs: Date.UTC(2026, 0, 1) });
  const path = new MemoryPath('radio', clock, offset);
  const specs = generateFarmDevices({ seed, count, otaaRatio: 1, pathNames: ['radio'] });
  const farm = new FarmSimulation({
    clock,
    paths: [path],
    devices: specs,
    seed,
    intervalMs: 60_000,
    uplinks: 3,
    confirmedRatio: 1,
    startSpreadMs: 1_000,
    joinBackoffMs: 10_000,
    answerGraceMs: 0,
  });
  return { clock, path, specs, farm };
}

describe('FarmSimulation receive windows', () => {
  it('a Join Accept at exactly RX1 joins; one 100 ms early is counted as wrong timing and the device retries', async () => {
    const { clock, path, specs, farm } = farmOf(2, 1, 0xffffffff - 2_000_000); // the counter wraps during RX1
    let early = true;
    path.onHeard = ({ phy, rx }) => {
      const frame = decodePhy(phy);
      if (frame.kind !== 'join-request') return;
      const spec = specs.find((s) => s.devEui === frame.devEui) as FarmDeviceSpec;
      const shift = spec === specs[1] && early ? -100_000 : 0;
      if (shift) early = false;
      path.transmit({
        tmst: addTmst(rx.tmst, 5_000_000 + shift),
        frequencyHz: rx.frequencyHz,
        dataRate: rx.dataRate,
        phyPayload: joinAcceptFor(spec, spec === specs[0] ? '01020304' : '01020305'),
      });
    };
    farm.start();
    await clock.advance(60_000);
    const stats = farm.snapshot();
    expect(stats.wrongTiming).toBe(1);
    expect(stats.joinRetries).toBe(1);
    expect(stats.joinedDevices).toBe(2);
    expect(farm.devices.map((d) => d.sim.devAddr)).toEqual(['01020304', '01020305']);
    farm.stop();
  });

  it('an ACK in RX2 is received; one on the wrong frequency is not, so the uplink goes out once more, then counts as unacknowledged', async () => {
    const { clock, path, specs, farm } = farmOf(1);
    const device = farm.devices[0];
    let uplinks = 0;
    path.onHeard = ({ phy, rx }) => {
      const frame = decodePhy(phy);
      if (frame.kind === 'join-request') {
        path.transmit({
          tmst: addTmst(rx.tmst, 6_000_000), // JOIN_ACCEPT_DELAY2, RX2 parameters
          ...RX2,
          phyPayload: joinAcceptFor(specs[0] as FarmDeviceSpec, '0a0b0c0d'),
        });
        return;
      }
      const keys = device?.sim.sessionKeys;
      if (frame.kind !== 'data' || !keys) return;
      uplinks++;
      // First uplink: correct RX2 ACK. Second: the right instant but RX1's frequency shifted by 200 kHz.
      const right = uplinks === 1;
      path.transmit({
        tmst: addTmst(rx.tmst, 2_000_000),
        frequencyHz: right ? RX2.frequencyHz : rx.frequencyHz + 200_000,
        dataRate: RX2.dataRate,
        phyPayload: ack(keys, uplinks - 1),
      });
    };
    farm.start();
    await clock.advance(3 * 3_600_000);
    const stats = farm.snapshot();
    expect(stats.joinedDevices).toBe(1);
    expect(stats.downlinksRx2).toBe(2); // the join accept and the first ACK
    expect(stats.acksReceived).toBe(1);
    expect(stats.wrongChannel).toBeGreaterThanOrEqual(2);
    expect(stats.retransmissions).toBe(2); // uplinks 2 and 3, once each
    expect(stats.confirmedUnacked).toBe(2);
    expect(farm.sentUplinks.map((u) => u.ackedIn)).toEqual(['rx2', undefined, undefined]);
    expect(farm.finished).toBe(true);
  });

  it('is deterministic for a seed: the same frames at the same simulated instants', async () => {
    const record = async (seed: number) => {
      const { clock, path, farm } = farmOf(3, seed);
      farm.start();
      await clock.advance(600_000);
      farm.stop();
      return path.heard.map((h) => `${h.rx.atMs}:${h.rx.frequencyHz}:${Buffer.from(h.phy).toString('hex')}`);
    };
    const a = await record(7);
    expect(a.length).toBeGreaterThan(3);
    expect(await record(7)).toEqual(a);
    expect(await record(8)).not.toEqual(a);
  });

  it('sends on schedule with GPS instants from the simulated clock, ABP devices straight away', async () => {
    const clock = new SimClock({ startMs: Date.UTC(2026, 0, 1) });
    const path = new MemoryPath('radio', clock);
    const specs = generateFarmDevices({ seed: 3, count: 4, otaaRatio: 0, pathNames: ['radio'] });
    const farm = new FarmSimulation({
      clock,
      paths: [path],
      devices: specs,
      seed: 3,
      intervalMs: 900_000,
      confirmedRatio: 0,
    });
    farm.start();
    await clock.advance(24 * 3_600_000);
    farm.stop();
    const stats = farm.snapshot();
    // A day at 15-minute intervals: 96 (± jitter) per device.
    expect(stats.uplinksSent).toBeGreaterThanOrEqual(4 * 93);
    expect(stats.uplinksSent).toBeLessThanOrEqual(4 * 100);
    const times = path.heard.map((h) => h.rx.atMs);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(23 * 3_600_000);
    expect(new Set(farm.sentUplinks.map((u) => `${u.devEui}/${u.fCnt}`)).size).toBe(stats.uplinksSent);
    expect(stats.pathUplinks.radio).toBe(stats.transmissions);
    expect(new Set(specs.map((s) => s.profile))).toEqual(
      new Set(['weather-station', 'soil-probe', 'air-sensor']),
    );
  });

  it.each(['EU868', 'AU915-SB1', 'US915-SB8', 'AS923-4', 'IN865', 'KR920'])(
    'in %s: every uplink goes out on the plan channels at a DR and size the plan allows',
    async (region) => {
      const clock = new SimClock({ startMs: Date.UTC(2026, 0, 1) });
      const path = new MemoryPath('radio', clock);
      const specs = generateFarmDevices({ seed: 5, count: 3, otaaRatio: 0, pathNames: ['radio'] });
      const farm = new FarmSimulation({
        clock,
        paths: [path],
        devices: specs,
        seed: 5,
        region,
        intervalMs: 900_000,
        confirmedRatio: 0, // unconfirmed: nothing waits for an answer this scripted network never sends
      });
      expect(farm.region.id).toBe(region);
      farm.start();
      await clock.advance(2 * 3_600_000);
      farm.stop();
      const plan = getRegion(region);
      const channels = new Set(plan.uplinkChannels.map((c) => c.frequencyHz));
      expect(path.heard.length).toBeGreaterThanOrEqual(3 * 7);
      for (const { phy, rx } of path.heard) {
        expect(channels.has(rx.frequencyHz)).toBe(true);
        const dr = plan.dataRateIndex(rx.dataRate);
        expect(dr).toBeDefined();
        // MACPayload = PHYPayload − MHDR − MIC within the plan's M at that DR.
        expect(phy.length - 5).toBeLessThanOrEqual(plan.dataRate(dr ?? -1)?.maxMacPayload ?? 0);
      }
    },
  );

  it('refuses a device naming an unknown path, with the field named', () => {
    const clock = new SimClock();
    const specs = generateFarmDevices({ seed: 1, count: 1, pathNames: ['nowhere'] });
    expect(
      () => new FarmSimulation({ clock, paths: [], devices: specs, seed: 1, intervalMs: 1_000 }),
    ).toThrow(/radio path "nowhere"/);
  });
});

describe('FarmSimulation downlink handling (untrusted bytes from the gateway)', () => {
  it('never throws on arbitrary downlinks, and counts each one exactly once', async () => {
    const { clock, path, specs, farm } = farmOf(2);
    path.onHeard = ({ phy, rx }) => {
      const frame = decodePhy(phy);
      if (frame.kind !== 'join-request') return;
      const spec = specs.find((s) => s.devEui === frame.devEui) as FarmDeviceSpec;
      path.transmit({
        tmst: addTmst(rx.tmst, 5_000_000),
        frequencyHz: rx.frequencyHz,
        dataRate: rx.dataRate,
        phyPayload: joinAcceptFor(spec, spec === specs[0] ? '01000001' : '01000002'),
      });
    };
    farm.start();
    await clock.advance(10_000);
    path.onHeard = undefined;
    expect(farm.snapshot().joinedDevices).toBe(2);
    const lastTmst = path.heard.at(-1)?.rx.tmst ?? 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.oneof(fc.nat(0xffffffff), fc.constant(addTmst(lastTmst, 1_000_000)))),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        (bytes, tmst, frequencyHz) => {
          const before = farm.snapshot();
          try {
            path.transmit({
              tmst: tmst ?? undefined,
              frequencyHz,
              dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
              phyPayload: bytes,
            });
          } catch (err) {
            if (!isMaverickError(err)) throw err;
            throw new Error(`the farm threw on a downlink: ${String(err)}`);
          }
          const after = farm.snapshot();
          const outcomes = (s: typeof after) =>
            s.wrongTiming +
            s.wrongChannel +
            s.lateDownlinks +
            s.unmatchedDownlinks +
            s.undecodableDownlinks +
            s.downlinksRx1 +
            s.downlinksRx2;
          expect(after.downlinksHeard).toBe(before.downlinksHeard + 1);
          expect(outcomes(after)).toBe(outcomes(before) + 1);
        },
      ),
      { numRuns: 500 },
    );
    farm.stop();
  });
});
