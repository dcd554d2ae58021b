/**
 * Per-device health for the technician (`maverick device list`, `status`):
 * when a device was last heard, how well (RSSI/SNR of its last uplink), its
 * battery (from its last DevStatusAns), its frame counter, how many uplinks
 * it sent in the last 24 h, and the last error its uplinks carried (a codec
 * failure). Read from the store's (devEui, receivedAt) index: a few indexed
 * reads per device, never a scan of the farm's history.
 */
import type { Device, DeviceSession } from '../ns/types.js';
import type { FarmDatabase } from './farm-db.js';
import type { UplinkDoc } from './schemas.js';

export interface DeviceHealth {
  devEui: string;
  /** ISO time of the last stored uplink. */
  lastSeen?: string;
  rssi?: number;
  snr?: number;
  /** Battery in percent (DevStatusAns 1..254 → 0..100), "external" power, or undefined when unknown. */
  battery?: number | 'external';
  /** When the battery was reported. */
  batteryAt?: string;
  fCntUp?: number;
  uplinks24h: number;
  /** The codec errors of the most recent of its last uplinks that had any. */
  lastError?: string;
  lastErrorAt?: string;
}

const DAY_MS = 86_400_000;
/** How far back (in uplinks) to look for the last error. */
const ERROR_LOOKBACK = 50;

/** DevStatusAns battery byte as ChirpStack reports it: 0 external, 255 unknown, else byte/254 in %. */
export function batteryPercent(battery: number): number | 'external' | undefined {
  if (battery === 0) return 'external';
  if (battery === 255) return undefined;
  return Math.round((battery / 254) * 1000) / 10;
}

export async function deviceHealth(
  db: FarmDatabase,
  device: Device,
  session: DeviceSession | undefined,
  nowMs: number = Date.now(),
): Promise<DeviceHealth> {
  const recent = await db.uplinks
    .find({
      selector: { devEui: device.devEui },
      sort: [{ devEui: 'desc' }, { receivedAt: 'desc' }],
      limit: ERROR_LOOKBACK,
    })
    .exec();
  const docs = recent.map((d) => d.toJSON() as UplinkDoc);
  const uplinks24h = await db.uplinks
    .count({ selector: { devEui: device.devEui, receivedAt: { $gte: nowMs - DAY_MS } } })
    .exec();
  const health: DeviceHealth = { devEui: device.devEui, uplinks24h };
  const last = docs[0];
  if (last) {
    health.lastSeen = new Date(last.receivedAt).toISOString();
    const rx = last.rxInfo[0] as { rssi?: number; snr?: number } | undefined;
    if (rx?.rssi !== undefined) health.rssi = rx.rssi;
    if (rx?.snr !== undefined) health.snr = rx.snr;
  }
  const failed = docs.find((d) => d.codecErrors && d.codecErrors.length > 0);
  if (failed?.codecErrors) {
    health.lastError = failed.codecErrors.join('; ');
    health.lastErrorAt = new Date(failed.receivedAt).toISOString();
  }
  if (session?.fCntUp !== undefined) health.fCntUp = session.fCntUp;
  if (session?.lastDevStatus) {
    const battery = batteryPercent(session.lastDevStatus.battery);
    if (battery !== undefined) health.battery = battery;
    health.batteryAt = session.lastDevStatus.at;
  }
  return health;
}
