/** Payload codecs: Cayenne LPP and sandboxed JavaScript (QuickJS), behind one CodecRunner. */
export * from './cayenne-lpp.js';
export * from './codec-runner.js';
export * from './js-codec.js';
export type { SandboxLimits } from './js-sandbox.js';
export * from './types.js';
