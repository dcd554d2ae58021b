import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFragment, splitItem } from '../../proto/link/fragment.js';
import { decodeStatusRecords } from '../../proto/link/status.js';
import { makeChain, testGateway } from '../../test/fixtures/bundle-chain.js';
import { RegionalNode } from '../intake.js';
import { GatewayRegistry } from '../registry.js';
import { RxdbRegionalStore } from '../rxdb-store.js';
import { RegionalMessageIntake } from './message-intake.js';

let store: RxdbRegionalStore | undefined;
afterEach(async () => {
  await store?.close();
});

describe('RegionalMessageIntake and transient rejections', () => {
  it('answers no DONE while the key is unknown (so the gateway resends), DONE accepted once it is registered', async () => {
    let t = 0;
    store = await RxdbRegionalStore.open({
      storage: getRxStorageMemory(),
      name: `mi_${process.pid}_${Date.now()}`,
    });
    const registry = await GatewayRegistry.open(store, { minRefreshMs: 1000, now: () => t });
    const intake = new RegionalMessageIntake({ node: new RegionalNode({ registry, store }) });
    const gw = testGateway('gw-sbd-late');
    const [bundle] = makeChain(gw, 1);
    const frames = splitItem('bundle', bundle!.cose, 340).map(encodeFragment);
    const sendAll = async () => {
      let answers: Uint8Array[] = [];
      for (const f of frames) answers = await intake.handle('imei-1', f);
      return answers.flatMap((m) => decodeStatusRecords(m));
    };
    expect(await sendAll()).toEqual([]);
    await registry.add(gw.id, gw.publicKey);
    t = 2000;
    expect(await sendAll()).toMatchObject([{ type: 'done', status: 'accepted' }]);
  });
});
