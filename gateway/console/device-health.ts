/**
 * Per-device health for the console's device table: last seen, RSSI/SNR of
 * the last uplink, battery (the session's last DevStatusAns), FCnt, uplinks
 * in the last 24 h and the last error (a rejected frame or a codec error).
 *
 * One interface, `DeviceHealthBoard.list(nowMs)`, over the store and the
 * network server's events: each device's traffic is read from the store
 * once (kernel/db/device-health.ts, as `maverick device list` reads it), then
 * kept current by `observe(ns)` (without it the rows are as of the first
 * read). A device's traffic is a fixed-size record (kernel/db/device-traffic.ts):
 * the board's memory grows with the devices, never with their uplinks.
 */
import { readDeviceTraffic } from '../../kernel/db/device-health.js';
import type { DeviceTraffic, UplinkSighting } from '../../kernel/db/device-traffic.js';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import type { NetworkServer } from '../../kernel/ns/index.js';
import type { NetworkRepository } from '../../kernel/ns/repository.js';
import type { DeviceSession } from '../../kernel/ns/types.js';
import type { DeviceHealth, HeardDevice } from './health-types.js';

export type { DeviceHealth, HeardDevice } from './health-types.js';

const MAX_HEARD = 200;
/** Uplinks of one device held back while its first store read runs (milliseconds; a cap, not a budget). */
const MAX_PENDING = 1_000;

export class DeviceHealthBoard {
  private readonly errors = new Map<string, { message: string; atMs: number }>();
  private readonly heard = new Map<string, HeardDevice>();
  private readonly traffic = new Map<string, DeviceTraffic>();
  /** Devices whose first store read runs, with the uplinks reported meanwhile. */
  private readonly pending = new Map<string, UplinkSighting[]>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly db: FarmDatabase,
    private readonly repository: NetworkRepository,
  ) {}

  /** Remembers rejections, codec errors and unknown joins as the network server reports them. */
  observe(ns: NetworkServer, now: () => number = Date.now): void {
    ns.on('rejected', (r) => {
      if (!r.devEui) return;
      const devEui = r.devEui.toLowerCase();
      if (r.reason === 'unknown_device' && !r.devAddr) {
        this.noteHeard(devEui, now(), typeof r.details?.joinEui === 'string' ? r.details.joinEui : undefined);
        return;
      }
      this.errors.set(devEui, { message: `${r.reason}: ${r.message}`, atMs: now() });
    });
    ns.on('up', (up) => {
      const rx = up.rxInfo[0];
      this.noteUplink(up.device.devEui, {
        session: up.session,
        fCnt: up.fCnt,
        atMs: Date.parse(up.time) || now(),
        rssi: rx?.rssi,
        snr: rx?.snr,
      });
      if (up.errors.length > 0) {
        this.errors.set(up.device.devEui, { message: `codec: ${up.errors.join('; ')}`, atMs: now() });
      }
    });
    ns.on('join', (j) => this.heard.delete(j.device.devEui));
  }

  noteHeard(devEui: string, atMs: number, joinEui?: string): void {
    const previous = this.heard.get(devEui);
    this.heard.delete(devEui);
    while (this.heard.size >= MAX_HEARD) {
      const oldest = this.heard.keys().next().value;
      if (oldest === undefined) break;
      this.heard.delete(oldest);
    }
    this.heard.set(devEui, {
      devEui,
      ...((joinEui ?? previous?.joinEui) ? { joinEui: joinEui ?? previous?.joinEui } : {}),
      lastHeardMs: atMs,
      attempts: (previous?.attempts ?? 0) + 1,
    });
  }

  /** Unknown DevEUIs that tried to join, newest first, minus any registered since. */
  async heardButNotRegistered(): Promise<HeardDevice[]> {
    const out: HeardDevice[] = [];
    for (const h of [...this.heard.values()].reverse()) {
      if (!(await this.repository.getDevice(h.devEui))) out.push(h);
    }
    return out;
  }

  /** Devices with an uplink at or after `sinceMs` (the overview's "heard in the last hour / day"). */
  async heardSince(sinceMs: number, nowMs: number): Promise<number> {
    const devices = await this.repository.listDevices();
    await this.loadTraffic(
      devices.map((d) => d.devEui),
      nowMs,
    );
    return devices.filter((d) => (this.traffic.get(d.devEui)?.last?.atMs ?? -1) >= sinceMs).length;
  }

  async list(nowMs: number): Promise<DeviceHealth[]> {
    const devices = await this.repository.listDevices();
    await this.loadTraffic(
      devices.map((d) => d.devEui),
      nowMs,
    );
    const sessions = new Map<string, DeviceSession>();
    for (const doc of await this.db.sessions.find().exec()) {
      sessions.set(doc.devEui, doc.record as unknown as DeviceSession);
    }
    return devices.map((device) => {
      const session = sessions.get(device.devEui);
      const traffic = this.traffic.get(device.devEui);
      const error = latestError(this.errors.get(device.devEui), traffic?.lastCodecError);
      const row: DeviceHealth = {
        devEui: device.devEui,
        name: device.name,
        applicationId: device.applicationId,
        activation: device.activation.mode,
        codec: device.codec.kind === 'js' ? device.codec.path : device.codec.kind,
        uplinks24h: traffic ? traffic.uplinks24h(nowMs) : 0,
      };
      if (device.activation.mode === 'otaa') row.joinEui = device.activation.joinEui;
      if (device.plotId) row.plotId = device.plotId;
      if (session?.devAddr) row.devAddr = session.devAddr;
      const last = traffic?.last;
      if (last) {
        row.lastSeenMs = last.atMs;
        row.fCnt = last.fCnt;
        if (last.rssi !== undefined) row.rssi = last.rssi;
        if (last.snr !== undefined) row.snr = last.snr;
      } else if (session?.fCntUp !== undefined) row.fCnt = session.fCntUp;
      if (session?.lastDevStatus) row.battery = session.lastDevStatus.battery;
      if (error) row.lastError = error;
      return row;
    });
  }

  /**
   * Counts a stored uplink (the network server's `up` event fires after the store committed
   * it). Before the device's first store read nothing is kept: that read will count it.
   */
  noteUplink(devEui: string, up: UplinkSighting): void {
    const pending = this.pending.get(devEui);
    if (pending) {
      if (pending.length < MAX_PENDING) pending.push(up);
      return;
    }
    this.traffic.get(devEui)?.note(up);
  }

  /**
   * Reads each device's traffic from the store once; from then on the `up` events keep the
   * figures current, so a table of 1,000 devices costs no store query per device per request.
   */
  private async loadTraffic(devEuis: string[], nowMs: number): Promise<void> {
    await Promise.all(
      devEuis.map((devEui) => {
        let loading = this.loading.get(devEui);
        if (!loading) {
          loading = this.loadOne(devEui, nowMs);
          this.loading.set(devEui, loading);
        }
        return loading;
      }),
    );
  }

  private async loadOne(devEui: string, nowMs: number): Promise<void> {
    this.pending.set(devEui, []);
    try {
      const traffic = await readDeviceTraffic(this.db, devEui, nowMs);
      // Uplinks reported during the read: those it already saw are repeats of its last one.
      for (const up of this.pending.get(devEui) ?? []) traffic.note(up);
      this.traffic.set(devEui, traffic);
    } catch (err) {
      this.loading.delete(devEui); // read again at the next request
      throw err;
    } finally {
      this.pending.delete(devEui);
    }
  }
}

/** The newer of a rejection or codec error reported live and the last codec error stored. */
function latestError(
  live: { message: string; atMs: number } | undefined,
  stored: { message: string; atMs: number } | undefined,
): { message: string; atMs: number } | undefined {
  if (!stored) return live;
  if (!live || stored.atMs > live.atMs) return { message: `codec: ${stored.message}`, atMs: stored.atMs };
  return live;
}
