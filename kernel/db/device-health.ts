/**
 * Per-device health for the technician (`maverick device list`, `status`):
 * when a device was last heard, how well (RSSI/SNR of its last uplink), its
 * battery (from its last DevStatusAns), its frame counter, how many uplinks
 * it sent in the last 24 h, and the last error its uplinks carried (a codec
 * failure). Read from the store's (devEui, receivedAt) index: a few indexed
 * reads per device, never a scan of the farm's history.
 *
 * One computation for every view: `readDeviceTraffic` fills a DeviceTraffic
 * (device-traffic.ts) from the store; the CLI reads it once, the gateway's
 * console reads it once per device and keeps it current from the network
 * server's events.
 */
import type { Device, DeviceSession } from '../ns/types.js';
import { DeviceTraffic, HOUR_MS, windowStartMs } from './device-traffic.js';
import type { FarmDatabase } from './farm-db.js';
import { sessionOfUplinkId, type UplinkDoc } from './schemas.js';

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

/** How far back (in uplinks) to look for the last error. */
const ERROR_LOOKBACK = 50;

/** DevStatusAns battery byte as ChirpStack reports it: 0 external, 255 unknown, else byte/254 in %. */
export function batteryPercent(battery: number): number | 'external' | undefined {
  if (battery === 0) return 'external';
  if (battery === 255) return undefined;
  return Math.round((battery / 254) * 1000) / 10;
}

/**
 * A device's traffic as the store holds it at `nowMs`: its uplinks counted per hour over the
 * window DeviceTraffic.uplinks24h reads (one indexed COUNT per hour, no document loaded), and
 * its last uplinks (at most ERROR_LOOKBACK documents) for the last one and the last codec error.
 */
export async function readDeviceTraffic(
  db: FarmDatabase,
  devEui: string,
  nowMs: number,
): Promise<DeviceTraffic> {
  const traffic = new DeviceTraffic();
  const hours: number[] = [];
  for (let at = windowStartMs(nowMs); at <= nowMs; at += HOUR_MS) hours.push(at);
  const counts = await Promise.all(
    hours.map((at) =>
      db.uplinks.count({ selector: { devEui, receivedAt: { $gte: at, $lt: at + HOUR_MS } } }).exec(),
    ),
  );
  hours.forEach((at, i) => {
    traffic.addToHour(at / HOUR_MS, counts[i] as number);
  });
  // Read after the counts: an uplink stored in between is then seen as already counted.
  const recent = await db.uplinks
    .find({
      selector: { devEui },
      sort: [{ devEui: 'desc' }, { receivedAt: 'desc' }],
      limit: ERROR_LOOKBACK,
    })
    .exec();
  for (const found of recent) {
    const doc = found.toJSON() as UplinkDoc;
    const rx = doc.rxInfo[0] as { rssi?: unknown; snr?: unknown } | undefined;
    traffic.remember({
      session: sessionOfUplinkId(doc.id),
      fCnt: doc.fCnt,
      atMs: doc.receivedAt,
      rssi: typeof rx?.rssi === 'number' ? rx.rssi : undefined,
      snr: typeof rx?.snr === 'number' ? rx.snr : undefined,
      codecErrors: doc.codecErrors,
    });
  }
  return traffic;
}

export async function deviceHealth(
  db: FarmDatabase,
  device: Device,
  session: DeviceSession | undefined,
  nowMs: number = Date.now(),
): Promise<DeviceHealth> {
  const traffic = await readDeviceTraffic(db, device.devEui, nowMs);
  const health: DeviceHealth = { devEui: device.devEui, uplinks24h: traffic.uplinks24h(nowMs) };
  const last = traffic.last;
  if (last) {
    health.lastSeen = new Date(last.atMs).toISOString();
    if (last.rssi !== undefined) health.rssi = last.rssi;
    if (last.snr !== undefined) health.snr = last.snr;
  }
  const failed = traffic.lastCodecError;
  if (failed) {
    health.lastError = failed.message;
    health.lastErrorAt = new Date(failed.atMs).toISOString();
  }
  if (session?.fCntUp !== undefined) health.fCntUp = session.fCntUp;
  if (session?.lastDevStatus) {
    const battery = batteryPercent(session.lastDevStatus.battery);
    if (battery !== undefined) health.battery = battery;
    health.batteryAt = session.lastDevStatus.at;
  }
  return health;
}
