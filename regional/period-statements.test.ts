/**
 * A period statement arriving over the satellite link: one 340-byte SBD message, taken by the
 * same handler the node uses for daily commitments, verified and held; the answer retires it at
 * the gateway. (Storage on both engines and the refusals: test/fixtures/regional-store-contract.ts.)
 */
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../proto/bundle/ed25519.js';
import { sha256 } from '../proto/evidence/hash.js';
import { encodeFragment, SBD_MO_MTU, splitItem } from '../proto/link/fragment.js';
import { decodeStatusRecords } from '../proto/link/status.js';
import { buildPeriod, signPeriodStatement } from '../proto/proof/period.js';
import { testGateway } from '../test/fixtures/bundle-chain.js';
import { RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';
import { commitmentIntake } from './serve.js';
import { RegionalMessageIntake } from './transport/message-intake.js';

let n = 0;
let store: RxdbRegionalStore;
let registry: GatewayRegistry;
const gw = testGateway('gw-period-sat');

beforeEach(async () => {
  store = await RxdbRegionalStore.open({
    storage: getRxStorageMemory(),
    name: `regional_period_${process.pid}_${n++}`,
  });
  registry = await GatewayRegistry.open(store);
  await registry.add(gw.id, gw.publicKey);
});
afterEach(async () => {
  await store.close();
});

/** A statement over a 31-day month of 10 devices every 15 minutes: its size does not grow with the records. */
function monthStatement(): Uint8Array {
  const days = Array.from({ length: 31 }, (_, d) => ({
    day: 20_513 + d,
    leafHashes: Array.from({ length: 960 }, (_, i) => sha256(Uint8Array.of(d, i >> 8, i & 0xff))),
  }));
  const { statement } = buildPeriod(20_513, 20_543, days);
  return signPeriodStatement(statement, gw, { iss: gw.id, sub: 'farm', iat: 1_777_000_000 });
}

describe('period statements over the satellite link', () => {
  it('fit one SBD message, are held once, and are answered DONE', async () => {
    const bytes = monthStatement();
    const fragments = splitItem('statement', bytes, SBD_MO_MTU);
    expect(fragments).toHaveLength(1);
    const intake = new RegionalMessageIntake({
      node: new RegionalNode({ registry, store }),
      onOther: commitmentIntake({ registry, store }),
    });
    const frame = encodeFragment({ ...fragments[0]!, wantStatus: true });
    expect(frame.length).toBeLessThanOrEqual(SBD_MO_MTU);
    const replies = await intake.handle('300234010000009', frame);
    const again = await intake.handle('300234010000009', frame);
    const held = await store.listPeriodStatements(gw.id);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ fromDay: 20_513, toDay: 20_543, digest: toHex(sha256(bytes)) });
    expect(held[0]?.cose).toEqual(bytes);
    const answers = [replies, again].map((messages) =>
      messages.flatMap((m) => decodeStatusRecords(m)).map((r) => (r.type === 'done' ? r.status : r.type)),
    );
    // The first copy is stored and accepted; a late copy is answered from the settled record.
    expect(answers[0]).toEqual(['accepted']);
    expect(answers[1]).toHaveLength(1);
    expect(['accepted', 'duplicate']).toContain(answers[1]![0]);
  });
});
