/**
 * Per-device health for the console's device table: last seen, RSSI/SNR of
 * the last uplink, battery (the session's last DevStatusAns), FCnt, uplinks
 * in the last 24 h and the last error (a rejected frame or a codec error).
 *
 * One interface, `DeviceHealthBoard.list(nowMs)`, over the store and the
 * network server's events; `maverick device list/status` could read the same
 * rows (the store part needs no running gateway: `observe` is optional).
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

  async list(nowMs: number): Promise<DeviceHealth[]> {
    const devices = await this.repository.listDevices();
    const sessions = new Map<string, DeviceSession>();
    for (const doc of await this.db.sessions.find().exec()) {
      sessions.set(doc.devEui, doc.record as unknown as DeviceSession);
    }
    return Promise.all(
      devices.map(async (device) => {
        const session = sessions.get(device.devEui);
        const [last, uplinks24h] = await Promise.all([
          this.db.uplinks
            .findOne({
              selector: { devEui: device.devEui },
              sort: [{ devEui: 'desc' }, { receivedAt: 'desc' }],
            })
            .exec(),
          this.db.uplinks
            .count({ selector: { devEui: device.devEui, receivedAt: { $gte: nowMs - DAY_MS } } })
            .exec(),
        ]);
        const lastDoc = last?.toJSON() as UplinkDoc | undefined;
        const rx = lastDoc?.rxInfo[0] as { rssi?: unknown; snr?: unknown } | undefined;
        const error = this.errors.get(device.devEui);
        const row: DeviceHealth = {
          devEui: device.devEui,
          name: device.name,
          applicationId: device.applicationId,
          activation: device.activation.mode,
          codec: device.codec.kind === 'js' ? device.codec.path : device.codec.kind,
          uplinks24h,
        };
        if (device.activation.mode === 'otaa') row.joinEui = device.activation.joinEui;
        if (device.plotId) row.plotId = device.plotId;
        if (session?.devAddr) row.devAddr = session.devAddr;
        if (lastDoc) {
          row.lastSeenMs = lastDoc.receivedAt;
          row.fCnt = lastDoc.fCnt;
        } else if (session?.fCntUp !== undefined) row.fCnt = session.fCntUp;
        if (typeof rx?.rssi === 'number') row.rssi = rx.rssi;
        if (typeof rx?.snr === 'number') row.snr = rx.snr;
        if (session?.lastDevStatus) row.battery = session.lastDevStatus.battery;
        if (error) row.lastError = error;
        return row;
      }),
    );
  }
}
