/** How bundles reach the regional node: MQTT (embedded aedes or an external broker) and the small-MTU message link. */
export { type EmbeddedBrokerOptions, EmbeddedRegionalBroker } from './embedded-broker.js';
export { ingestItem, type OtherItemHandler } from './ingest-item.js';
export { type MessageIntakeOptions, RegionalMessageIntake } from './message-intake.js';
export {
  type RegionalTransport,
  type RegionalTransportOptions,
  startRegionalTransport,
} from './mqtt-intake.js';
export {
  type FragmentReassembly,
  MAX_FRAGMENTS,
  Reassembler,
  type ReassemblerOptions,
  type ReassemblyResult,
} from './reassembly.js';
export {
  DEFAULT_LINK_LIMITS,
  StoredReassembler,
  type StoredReassemblerOptions,
} from './stored-reassembly.js';
