/**
 * The downlink state in the farm database: queues come back in order after a restart, and a
 * gateway's duty-cycle use is its own and survives a restart (a fresh process must not think
 * the hour's airtime is unused).
 */
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../proto/log.js';
import { getRegion } from '../../proto/regions/index.js';
import { DownlinkQueue } from '../ns/downlink-queue.js';
import { FakeRadio } from '../ns/fake-radio.test-helpers.js';
import { Transmitter, type WindowPlan } from '../ns/transmitter.js';
import { FarmDownlinkState } from './downlink-state.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';

const region = getRegion('EU868');
const phyPayload = new Uint8Array(51);
// Both windows in sub-band g1 (1 %): SF12, 51 bytes is ~2.5 s on air, so ~14 frames an hour.
const plans: WindowPlan[] = [
  { window: 'rx1', tmst: 1_000_000, frequencyHz: 868_100_000, dr: 0, phyPayload },
  { window: 'rx2', tmst: 2_000_000, frequencyHz: 868_300_000, dr: 0, phyPayload },
];

let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function open(): Promise<FarmDatabase> {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `downlink-state${n++}` });
  return db;
}

describe('FarmDownlinkState', () => {
  it('gives a restarted queue every payload back, in order, with its attempts', async () => {
    const state = new FarmDownlinkState(await open());
    const first = new DownlinkQueue({ store: state });
    const ids: string[] = [];
    for (const [i, confirmed] of [false, true, false].entries()) {
      ids.push(
        (await first.enqueue('0011223344556677', { fPort: 10 + i, confirmed, data: Uint8Array.of(i) })).id,
      );
    }
    await first.enqueue('8899aabbccddeeff', { fPort: 1, confirmed: false, data: Uint8Array.of(9) });
    first.markSent('0011223344556677', ids[0] as string); // unconfirmed: leaves the queue
    await first.idle();

    const second = new DownlinkQueue({ store: state });
    expect(await second.load()).toBe(3);
    expect(second.list('0011223344556677').map((q) => [q.id, q.fPort, [...q.data]])).toEqual([
      [ids[1], 11, [1]],
      [ids[2], 12, [2]],
    ]);
    second.markSent('0011223344556677', ids[1] as string); // confirmed: stays until acknowledged
    await second.idle();
    const third = new DownlinkQueue({ store: state });
    await third.load();
    expect(third.peek('0011223344556677')).toMatchObject({ id: ids[1], attempts: 1 });
    third.clear('8899aabbccddeeff');
    await third.idle();
    expect((await state.loadQueues()).flat().map((q) => q.devEui)).toEqual([
      '0011223344556677',
      '0011223344556677',
    ]);
  });

  it("keeps each gateway's duty cycle apart and across a restart", async () => {
    const state = new FarmDownlinkState(await open());
    const now = 1_000_000_000;
    const radio = new FakeRadio();
    const before = new Transmitter({ logger: silentLogger, now: () => now, state });
    let sent = 0;
    for (let i = 0; i < 100; i++) {
      const result = await before.transmit(radio, 'aa555a0000000001', region, plans);
      if (!result.sent) break;
      sent++;
    }
    expect(sent).toBeGreaterThan(5);
    expect(sent).toBeLessThan(30);

    // A restart: a new transmitter on the same store still finds gateway A's hour used up…
    const after = new Transmitter({ logger: silentLogger, now: () => now, state });
    const blocked = await after.transmit(radio, 'aa555a0000000001', region, plans);
    expect(blocked.attempts.map((a) => a.status)).toEqual(['DUTY_CYCLE', 'DUTY_CYCLE']);
    // …while gateway B has its own airtime.
    const other = await after.transmit(radio, 'aa555a0000000002', region, plans);
    expect(other.sent?.window).toBe('rx1');
    // An hour later A may send again.
    const later = new Transmitter({ logger: silentLogger, now: () => now + 3_600_001, state });
    expect((await later.transmit(radio, 'aa555a0000000001', region, plans)).sent?.window).toBe('rx1');
  });
});
