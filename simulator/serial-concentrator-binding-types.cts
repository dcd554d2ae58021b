/**
 * Types of @serialport/binding-mock and @serialport/bindings-interface. Both ship
 * CommonJS typings behind an `exports` map without a `types` condition, so ES
 * modules under NodeNext cannot see them; this CommonJS-resolved file (.cts) can,
 * and re-exports them for the simulator's ES modules.
 */
export type { MockBinding, MockPortBinding } from '@serialport/binding-mock';
export type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface';
