// MemoryStorage, the contract's reference store, against the conformance suite.
import { MemoryStorage } from '@syncstate-ts/storage';
import { describeStoreConformance } from '@syncstate-ts/testkit/store-conformance';

describeStoreConformance('MemoryStorage', {
  open: () => Promise.resolve(new MemoryStorage<string, string>()),
  // No medium: the same store is what a restarted server in this process sees.
  reopen: (store) => Promise.resolve(store),
  cleanup: () => Promise.resolve(),
});
