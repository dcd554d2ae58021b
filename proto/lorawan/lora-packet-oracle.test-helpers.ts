/**
 * lora-packet, typed for ESM callers. It is the independent implementation
 * our tests cross-check against and the baseline of bench/lorawan.bench.ts.
 * Its CommonJS entry sets `module.exports = modules` while its typings declare
 * `export default`, so a default import is the module object at run time but
 * TypeScript expects `.default`: this picks whichever exists.
 */
import loraPacketModule from 'lora-packet';

type LoraPacketApi = typeof loraPacketModule.default;

export const loraPacket: LoraPacketApi =
  (loraPacketModule as { default?: LoraPacketApi }).default ?? (loraPacketModule as unknown as LoraPacketApi);
