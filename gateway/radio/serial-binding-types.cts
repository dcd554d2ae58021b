/**
 * Types of the serialport binding interface. @serialport/bindings-interface ships
 * CommonJS typings behind an `exports` map without a `types` condition, so ES
 * modules under NodeNext cannot see them; this CommonJS-resolved file (.cts) can,
 * and re-exports them for the ES modules of gateway/radio.
 */
export type { BindingInterface } from '@serialport/bindings-interface';
