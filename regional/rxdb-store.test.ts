import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { regionalStoreContract } from '../test/fixtures/regional-store-contract.js';
import { RxdbRegionalStore } from './rxdb-store.js';

let n = 0;
regionalStoreContract({
  name: 'RxDB (memory storage)',
  transactional: false,
  open: () =>
    RxdbRegionalStore.open({
      storage: getRxStorageMemory(),
      name: `regional_contract_${process.pid}_${n++}`,
    }),
});
