/**
 * Sessions ahead of the store. A device's uplinks are checked one after another
 * (MIC, FCnt, MAC, ADR) without waiting for each other's commits, so the next
 * frame must see the session as the previous frame left it, although that
 * session is stored only once the previous uplink is durably stored. This map
 * holds, per device, the newest such session while any of its uplinks is in
 * flight, and lays it over the repository's answers. When the last one settles
 * the entry goes: the repository is then up to date — or, when a store failed,
 * still holds the session from before, so the device may retransmit.
 */
import type { ActiveDevice, NetworkRepository } from './repository.js';
import type { DeviceSession } from './types.js';
import { cloneDevice, cloneSession } from './types.js';

/** One device's session ahead of the store, with the uplinks and updates still to settle. */
export interface AheadEntry {
  readonly devEui: string;
  session: DeviceSession;
  inFlight: number;
}

/**
 * The same session (the same activation), whatever its counters: a rejoin gives a new
 * DevAddr or join time, an ABP re-registration a new activation time.
 */
export function sameSession(a: DeviceSession, b: DeviceSession): boolean {
  return a.devEui === b.devEui && a.devAddr === b.devAddr && a.joinedAt === b.joinedAt;
}

export class SessionsAhead {
  private readonly ahead = new Map<string, AheadEntry>();

  constructor(private readonly repository: Pick<NetworkRepository, 'devicesByDevAddr' | 'getSession'>) {}

  /**
   * The repository's candidates, each with the session ahead of the store when there is one.
   * Copies the caller may change, unless `readOnly` (a MIC check changes nothing): then the
   * records themselves. Either way the repository is asked for its records, not for copies:
   * a session ahead replaces the stored one, so a copy of that would be thrown away.
   */
  async devicesByDevAddr(devAddr: string, readOnly = false): Promise<ActiveDevice[]> {
    const found = await this.repository.devicesByDevAddr(devAddr, true);
    for (let i = 0; i < found.length; i++) {
      const active = found[i] as ActiveDevice;
      const entry = this.ahead.get(active.device.devEui);
      const session = entry && sameSession(entry.session, active.session) ? entry.session : active.session;
      // The repository made a new pair for this answer: only the records inside are shared.
      if (readOnly) active.session = session;
      else found[i] = { device: cloneDevice(active.device), session: cloneSession(session) };
    }
    return found;
  }

  /** The device's newest session (a copy): ahead of the store, or else the stored one. */
  async getSession(devEui: string): Promise<DeviceSession | undefined> {
    const stored = await this.repository.getSession(devEui, true);
    if (!stored) return undefined;
    const entry = this.ahead.get(devEui);
    return cloneSession(entry && sameSession(entry.session, stored) ? entry.session : stored);
  }

  /**
   * Records `session` (which the caller no longer changes) as the device's newest and counts
   * one more update in flight; settle() the entry when that update is stored or abandoned.
   */
  advance(session: DeviceSession): AheadEntry {
    let entry = this.ahead.get(session.devEui);
    if (entry && sameSession(entry.session, session)) {
      entry.session = session;
      entry.inFlight++;
    } else {
      // A new activation replaces the old one's entry; its updates still in flight become moot.
      entry = { devEui: session.devEui, session, inFlight: 1 };
      this.ahead.set(session.devEui, entry);
    }
    return entry;
  }

  /** Whether `entry` is still the device's current one (no rejoin since). */
  isCurrent(entry: AheadEntry): boolean {
    return this.ahead.get(entry.devEui) === entry;
  }

  /** One update of `entry` stored or abandoned; the last one removes the entry. */
  settle(entry: AheadEntry): void {
    entry.inFlight--;
    if (entry.inFlight <= 0 && this.ahead.get(entry.devEui) === entry) this.ahead.delete(entry.devEui);
  }

  /** A join replaced the device's session: what was ahead of the old one no longer counts. */
  forget(devEui: string): void {
    this.ahead.delete(devEui);
  }

  /** Devices with a session ahead of the store. */
  size(): number {
    return this.ahead.size;
  }
}
