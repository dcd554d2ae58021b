/**
 * One device's recent traffic in a fixed amount of memory: its last uplink (time, session,
 * FCnt, RSSI/SNR), its last codec error, and how many uplinks it sent in each of the last 24
 * clock hours. Whatever a device sends, the record holds 24 hour buckets and a handful of
 * fields: the health views (console, `maverick device list`) depend on the number of devices,
 * never on the number of uplinks stored.
 *
 * An uplink is identified as the store identifies it (schemas.ts `uplinkId`): its session and
 * its FCnt, so a rejoin's FCnt 0 is a new uplink, while a repeat of the last one (same session,
 * FCnt not above the last) is not counted twice.
 */

export const HOUR_MS = 3_600_000;
/** Hour buckets kept: "the last 24 h" is the current clock hour and the 23 before it. */
export const HOURS_KEPT = 24;

export interface UplinkSighting {
  session: number;
  fCnt: number;
  atMs: number;
  rssi?: number | undefined;
  snr?: number | undefined;
  /** The codec's errors on this uplink (none when it decoded). */
  codecErrors?: readonly string[] | undefined;
}

export class DeviceTraffic {
  /** Hours since the epoch each bucket counts (-1: unused); bucket = hour mod HOURS_KEPT. */
  private readonly hours = new Float64Array(HOURS_KEPT).fill(-1);
  private readonly counts = new Uint32Array(HOURS_KEPT);
  private lastSighting: UplinkSighting | undefined;
  private codecError: { message: string; atMs: number } | undefined;

  /** The newest uplink noted (by reception time). */
  get last(): Readonly<UplinkSighting> | undefined {
    return this.lastSighting;
  }

  /** The newest codec error noted. */
  get lastCodecError(): { message: string; atMs: number } | undefined {
    return this.codecError;
  }

  /**
   * Counts a stored uplink in its hour and keeps it as the last one if it is the newest.
   * Returns false (and changes nothing) for a repeat: the last uplink's session with an FCnt
   * not above the last one's.
   */
  note(up: UplinkSighting): boolean {
    const last = this.lastSighting;
    if (last && up.session === last.session && up.fCnt <= last.fCnt) return false;
    this.addToHour(Math.floor(up.atMs / HOUR_MS), 1);
    this.remember(up);
    return true;
  }

  /** Keeps `up` as the last uplink if it is the newest, and its codec errors; counts nothing. */
  remember(up: UplinkSighting): void {
    const last = this.lastSighting;
    if (!last || up.atMs >= last.atMs) {
      this.lastSighting = {
        session: up.session,
        fCnt: up.fCnt,
        atMs: up.atMs,
        rssi: up.rssi,
        snr: up.snr,
      };
    }
    if (up.codecErrors && up.codecErrors.length > 0) this.noteCodecError(up.codecErrors, up.atMs);
  }

  /** Keeps `errors` as the last codec error unless a newer one is already kept. */
  noteCodecError(errors: readonly string[], atMs: number): void {
    if (this.codecError && this.codecError.atMs > atMs) return;
    this.codecError = { message: errors.join('; '), atMs };
  }

  /** Adds `count` uplinks to `hour` (hours since the epoch), e.g. a store count read at start. */
  addToHour(hour: number, count: number): void {
    const slot = hour % HOURS_KEPT;
    const held = this.hours[slot] as number;
    if (held > hour) return; // older than the 24 hours this slot can still hold
    if (held < hour) {
      this.hours[slot] = hour;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] as number) + count;
  }

  /** Uplinks in the current clock hour of `nowMs` and the 23 before it. */
  uplinks24h(nowMs: number): number {
    const current = Math.floor(nowMs / HOUR_MS);
    let n = 0;
    for (let slot = 0; slot < HOURS_KEPT; slot++) {
      const hour = this.hours[slot] as number;
      if (hour > current - HOURS_KEPT && hour <= current) n += this.counts[slot] as number;
    }
    return n;
  }
}

/** The first hour `uplinks24h(nowMs)` counts, as a time: where a store read of the window starts. */
export function windowStartMs(nowMs: number): number {
  return (Math.floor(nowMs / HOUR_MS) - HOURS_KEPT + 1) * HOUR_MS;
}
