/**
 * Per-device health for the console's device table: last seen, RSSI/SNR of
 * the last uplink, battery (the session's last DevStatusAns), FCnt, uplinks
 * in the last 24 h and the last error (a rejected frame or a codec error).
 *
 * One interface, `DeviceHealthBoard.list(nowMs)`, over the store and the
 * network server's events: each device's traffic is read from the store
 * once, then kept current by `observe(ns)`. `maverick device list/status`
 * could read the same rows from a fresh board without a running gateway
 * (`observe` is optional; without it the rows are as of the first read).
 */
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import type { UplinkDoc } from '../../kernel/db/schemas.js';
import type { NetworkServer } from '../../kernel/ns/index.js';
import type { NetworkRepository } from '../../kernel/ns/repository.js';
import type { DeviceSession } from '../../kernel/ns/types.js';
import type { DeviceHealth, HeardDevice } from './health-types.js';

export type { DeviceHealth, HeardDevice } from './health-types.js';

const DAY_MS = 86_400_000;
const MAX_HEARD = 200;

export class DeviceHealthBoard {
  private readonly errors = new Map<string, { message: string; atMs: number }>();
  private readonly heard = new Map<string, HeardDevice>();
  private readonly traffic = new Map<string, Traffic>();
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
      this.noteUplink(up.device.devEui, up.fCnt, Date.parse(up.time) || now(), rx?.rssi, rx?.snr);
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
    return devices.filter((d) => (this.traffic.get(d.devEui)?.lastMs ?? -1) >= sinceMs).length;
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
      const error = this.errors.get(device.devEui);
      const row: DeviceHealth = {
        devEui: device.devEui,
        name: device.name,
        applicationId: device.applicationId,
        activation: device.activation.mode,
        codec: device.codec.kind === 'js' ? device.codec.path : device.codec.kind,
        uplinks24h: traffic ? recentCount(traffic, nowMs) : 0,
      };
      if (device.activation.mode === 'otaa') row.joinEui = device.activation.joinEui;
      if (device.plotId) row.plotId = device.plotId;
      if (session?.devAddr) row.devAddr = session.devAddr;
      if (traffic && traffic.lastMs >= 0) {
        row.lastSeenMs = traffic.lastMs;
        row.fCnt = traffic.fCnt;
        if (traffic.rssi !== undefined) row.rssi = traffic.rssi;
        if (traffic.snr !== undefined) row.snr = traffic.snr;
      } else if (session?.fCntUp !== undefined) row.fCnt = session.fCntUp;
      if (session?.lastDevStatus) row.battery = session.lastDevStatus.battery;
      if (error) row.lastError = error;
      return row;
    });
  }

  /** Records a stored uplink (the network server's `up` event fires after the store committed it). */
  noteUplink(devEui: string, fCnt: number, atMs: number, rssi?: number, snr?: number): void {
    const t = this.traffic.get(devEui) ?? { lastMs: -1, fCnt: 0, recent: new Map<number, number>() };
    t.recent.set(fCnt, atMs);
    if (atMs >= t.lastMs) {
      t.lastMs = atMs;
      t.fCnt = fCnt;
      t.rssi = rssi;
      t.snr = snr;
    }
    this.traffic.set(devEui, t);
  }

  /**
   * Reads from the store, once per device, its last uplink and its uplinks of
   * the last 24 h; from then on the `up` events keep the figures current, so
   * a table of 1,000 devices costs no store query per device per request.
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
    const [last, recent] = await Promise.all([
      this.db.uplinks
        .findOne({ selector: { devEui }, sort: [{ devEui: 'desc' }, { receivedAt: 'desc' }] })
        .exec(),
      this.db.uplinks.find({ selector: { devEui, receivedAt: { $gte: nowMs - DAY_MS } } }).exec(),
    ]);
    for (const doc of recent) this.noteUplink(devEui, doc.fCnt, doc.receivedAt);
    const lastDoc = last?.toJSON() as UplinkDoc | undefined;
    if (lastDoc) {
      const rx = lastDoc.rxInfo[0] as { rssi?: unknown; snr?: unknown } | undefined;
      const rssi = typeof rx?.rssi === 'number' ? rx.rssi : undefined;
      const snr = typeof rx?.snr === 'number' ? rx.snr : undefined;
      this.noteUplink(devEui, lastDoc.fCnt, lastDoc.receivedAt, rssi, snr);
    }
  }
}

interface Traffic {
  lastMs: number;
  fCnt: number;
  rssi?: number | undefined;
  snr?: number | undefined;
  /** fCnt → reception time of the uplinks of about the last 24 h (keyed by fCnt: a re-read is no double count). */
  recent: Map<number, number>;
}

/** Uplinks within 24 h of `nowMs`; older entries are dropped as they age out. */
function recentCount(t: Traffic, nowMs: number): number {
  for (const [fCnt, at] of t.recent) if (at < nowMs - DAY_MS) t.recent.delete(fCnt);
  let n = 0;
  for (const at of t.recent.values()) if (at <= nowMs) n++;
  return n;
}
