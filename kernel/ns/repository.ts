/**
 * What the network server needs to remember, as a small async interface. The
 * JSON state file (file-repository.ts) implements it now; the store team adds
 * an RxDB implementation later. Every method resolves only once the change is
 * durable: the join server relies on that for DevNonces and JoinNonces.
 */
import type { Device, DeviceSession } from './types.js';

/** A device with its current session, as found by DevAddr. */
export interface ActiveDevice {
  device: Device;
  session: DeviceSession;
}

export interface NetworkRepository {
  getDevice(devEui: string): Promise<Device | undefined>;
  /**
   * Every device whose session uses this DevAddr; several may share one, the MIC decides.
   * Answers are copies the caller may change, unless `readOnly`: then they are the
   * repository's own records, which the caller must not change (the uplink path reads the
   * candidates and copies only the session it advances; a copy per lookup was a large share
   * of its allocations).
   */
  devicesByDevAddr(devAddr: string, readOnly?: boolean): Promise<ActiveDevice[]>;
  listDevices(): Promise<Device[]>;
  /** Adds or replaces a device (its session, nonces and counters are kept). */
  putDevice(device: Device): Promise<void>;
  /** Removes a device with its session and nonces; false when it was not there. */
  removeDevice(devEui: string): Promise<boolean>;
  /** A copy of the device's session, or with `readOnly` the record itself (see devicesByDevAddr). */
  getSession(devEui: string, readOnly?: boolean): Promise<DeviceSession | undefined>;
  putSession(session: DeviceSession): Promise<void>;
  hasDevNonce(devEui: string, devNonce: number): Promise<boolean>;
  addDevNonce(devEui: string, devNonce: number): Promise<void>;
  /** Increments, stores and returns the device's JoinNonce (first value 1). */
  nextJoinNonce(devEui: string): Promise<number>;
  close(): Promise<void>;
}
