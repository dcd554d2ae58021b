/** An in-memory NetworkRepository for unit tests and benchmarks: same contract, nothing durable. */
import type { ActiveDevice, NetworkRepository } from './repository.js';
import { cloneDevice, cloneSession, type Device, type DeviceSession } from './types.js';

export class MemoryNetworkRepository implements NetworkRepository {
  private devices = new Map<string, Device>();
  private sessions = new Map<string, DeviceSession>();
  private devNonces = new Map<string, Set<number>>();
  private joinNonces = new Map<string, number>();
  /** DevAddr → devEuis, so lookups stay O(1) with many devices (benchmarks use this repository). */
  private byDevAddr = new Map<string, Set<string>>();

  async getDevice(devEui: string): Promise<Device | undefined> {
    const d = this.devices.get(devEui);
    return d && cloneDevice(d);
  }
  async devicesByDevAddr(devAddr: string, readOnly = false): Promise<ActiveDevice[]> {
    const out: ActiveDevice[] = [];
    for (const devEui of this.byDevAddr.get(devAddr) ?? []) {
      const device = this.devices.get(devEui);
      const session = this.sessions.get(devEui);
      if (!device || !session) continue;
      out.push(
        readOnly ? { device, session } : { device: cloneDevice(device), session: cloneSession(session) },
      );
    }
    return out;
  }
  async listDevices(): Promise<Device[]> {
    return [...this.devices.values()].map((d) => cloneDevice(d));
  }
  async putDevice(device: Device): Promise<void> {
    this.devices.set(device.devEui, cloneDevice(device));
  }
  async removeDevice(devEui: string): Promise<boolean> {
    const session = this.sessions.get(devEui);
    if (session) this.byDevAddr.get(session.devAddr)?.delete(devEui);
    this.sessions.delete(devEui);
    this.devNonces.delete(devEui);
    this.joinNonces.delete(devEui);
    return this.devices.delete(devEui);
  }
  async getSession(devEui: string, readOnly = false): Promise<DeviceSession | undefined> {
    const s = this.sessions.get(devEui);
    return s && (readOnly ? s : cloneSession(s));
  }
  async putSession(session: DeviceSession): Promise<void> {
    const previous = this.sessions.get(session.devEui);
    if (previous) this.byDevAddr.get(previous.devAddr)?.delete(session.devEui);
    const set = this.byDevAddr.get(session.devAddr) ?? new Set<string>();
    set.add(session.devEui);
    this.byDevAddr.set(session.devAddr, set);
    this.sessions.set(session.devEui, cloneSession(session));
  }
  async hasDevNonce(devEui: string, devNonce: number): Promise<boolean> {
    return this.devNonces.get(devEui)?.has(devNonce) ?? false;
  }
  async addDevNonce(devEui: string, devNonce: number): Promise<void> {
    const set = this.devNonces.get(devEui) ?? new Set<number>();
    set.add(devNonce);
    this.devNonces.set(devEui, set);
  }
  async nextJoinNonce(devEui: string): Promise<number> {
    const next = (this.joinNonces.get(devEui) ?? 0) + 1;
    this.joinNonces.set(devEui, next);
    return next;
  }
  async close(): Promise<void> {}
}
