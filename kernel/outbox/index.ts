/** The outbox: durable, prioritised, budgeted delivery of signed items to the regional node. */
export { LinkBudget, type LinkBudgetOptions, TokenBucket } from './budget.js';
export { LinkMonitor, type LinkStateChange } from './link-monitor.js';
export { Outbox, type OutboxEvents, type OutboxOptions } from './outbox.js';
export { RxdbOutboxStore } from './rxdb-outbox-store.js';
export { SyncEngine, type SyncEngineOptions } from './sync-engine.js';
export * from './types.js';
