/**
 * The farm console wired to a running gateway: the device health board and
 * the live stream fed by the network server's events, served by the console
 * server. `maverick run` calls `startConsole` after the runtime is up.
 */

import type { Logger } from '../../proto/log.js';
import type { RegionId } from '../../proto/regions/types.js';
import type { GatewayRuntime } from '../runtime.js';
import type { ConsoleData } from './api-types.js';
import { DeviceHealthBoard } from './device-health.js';
import { LiveHub } from './live.js';
import type { PasswordVerifier } from './password.js';
import { type ConsoleServer, startConsoleServer } from './server.js';

export { type DeviceHealth, DeviceHealthBoard, type HeardDevice } from './device-health.js';
export { consolePasswordPath, readConsolePassword, writeConsolePassword } from './password.js';
export type { ConsoleServer } from './server.js';

export interface ConsoleOptions {
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  password: PasswordVerifier;
  regionId: RegionId;
  /** The overview's figures; `health` answers "devices heard since" without a store query per device. */
  overview: (health: DeviceHealthBoard) => Promise<Record<string, unknown>>;
  sealNow?: () => Promise<unknown>;
  doctor?: () => Promise<unknown>;
  webDir?: string;
  now?: () => number;
  logger?: Logger;
}

export async function startConsole(runtime: GatewayRuntime, options: ConsoleOptions): Promise<ConsoleServer> {
  const now = options.now ?? Date.now;
  const health = new DeviceHealthBoard(runtime.db, runtime.repository);
  health.observe(runtime.ns, now);
  const live = new LiveHub();
  runtime.ns.on('up', (up) => {
    const rx = up.rxInfo[0];
    live.publish({
      type: 'up',
      data: {
        devEui: up.device.devEui,
        fCnt: up.fCnt,
        fPort: up.fPort,
        time: up.time,
        ...(rx ? { rssi: rx.rssi, snr: rx.snr } : {}),
        ...(up.object ? { object: up.object } : {}),
        ...(up.errors.length ? { errors: up.errors } : {}),
      },
    });
  });
  runtime.ns.on('join', (j) =>
    live.publish({ type: 'join', data: { devEui: j.device.devEui, devAddr: j.devAddr, time: j.time } }),
  );
  runtime.ns.on('rejected', (r) => {
    if (r.reason === 'unknown_device' && r.devEui && !r.devAddr) {
      live.publish({ type: 'alarm', data: { kind: 'unknown-join', devEui: r.devEui, message: r.message } });
    } else if (r.reason !== 'unknown_device') {
      live.publish({ type: 'alarm', data: { kind: r.reason, devEui: r.devEui, message: r.message } });
    }
  });
  const data: ConsoleData = {
    db: runtime.db,
    repository: runtime.repository,
    ns: runtime.ns,
    health,
    regionId: options.regionId,
    overview: () => options.overview(health),
    ...(options.sealNow ? { sealNow: options.sealNow } : {}),
    ...(options.doctor ? { doctor: options.doctor } : {}),
    now,
  };
  return startConsoleServer({
    host: options.host,
    port: options.port,
    ...(options.tls ? { tls: options.tls } : {}),
    password: options.password,
    data,
    live,
    ...(options.webDir ? { webDir: options.webDir } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
