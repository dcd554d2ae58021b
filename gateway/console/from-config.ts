/**
 * `maverick run`'s console: [console] in maverick.toml mapped onto
 * startConsole. The console is a convenience beside the gateway's real work,
 * so a console that cannot start (no password file, port taken) is logged
 * with its fix and the gateway runs on without it.
 */
import { describeError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { resolveDataPath } from '../config/paths.js';
import type { MaverickConfig } from '../config/schema.js';
import { readSecretFile } from '../config/secrets.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GatewayRuntime } from '../runtime.js';
import type { DeviceHealthBoard } from './device-health.js';
import { type ConsoleServer, startConsole } from './index.js';
import { parsePasswordHash } from './password.js';

export async function consoleOverview(
  config: MaverickConfig,
  runtime: GatewayRuntime,
  metrics: Metrics,
  now: number,
  health: DeviceHealthBoard,
): Promise<Record<string, unknown>> {
  const status = metrics.snapshot();
  const [lastSealed, lastAcked, heardHour, heardDay] = await Promise.all([
    runtime.db.bundles.findOne({ selector: { kind: 'bundle' }, sort: [{ id: 'desc' }] }).exec(),
    runtime.db.bundles
      .findOne({ selector: { syncState: 'acked' }, sort: [{ syncState: 'desc' }, { seq: 'desc' }] })
      .exec(),
    health.heardSince(now - 3_600_000, now),
    health.heardSince(now - 86_400_000, now),
  ]);
  return {
    gatewayId: config.gateway.id,
    region: config.gateway.region,
    radio: status.radio,
    devices: { registered: status.devices, heardLastHour: heardHour, heardLastDay: heardDay },
    store: { sizeBytes: status.store.sizeBytes, quotaBytes: config.store.quota_mb * 1024 * 1024 },
    outbox: status.outbox,
    links: status.links,
    satelliteDailyBytes: config.regional.links.includes('satellite')
      ? config.regional.satellite_daily_bytes
      : undefined,
    lastSealed: lastSealed
      ? { seq: lastSealed.seq, at: lastSealed.createdAt, uplinks: lastSealed.uplinkCount }
      : null,
    lastAcked: lastAcked ? { seq: lastAcked.seq, at: lastAcked.ackedAt ?? null } : null,
    clock: status.clock,
    uplinks: status.uplinks,
    uptimeSeconds: status.uptimeSeconds,
  };
}

export async function startConsoleFromConfig(
  config: MaverickConfig,
  runtime: GatewayRuntime,
  metrics: Metrics,
  logger: Logger,
): Promise<ConsoleServer | undefined> {
  if (!config.console.enabled) return undefined;
  const { tls } = config.console;
  if (config.console.lan && !tls) {
    logger.warn(
      'farm console served on the LAN without TLS: its password crosses the network readable; set [console.tls] cert and key',
    );
  }
  try {
    const passwordFile = resolveDataPath(config, config.console.password_file);
    const password = parsePasswordHash(readSecretFile(passwordFile), passwordFile);
    return await startConsole(runtime, {
      host: config.console.lan ? '0.0.0.0' : '127.0.0.1',
      port: config.console.port,
      ...(tls
        ? { tls: { certPath: resolveDataPath(config, tls.cert), keyPath: resolveDataPath(config, tls.key) } }
        : {}),
      password,
      regionId: config.gateway.region,
      // The doctor reads this running gateway's status instead of probing its radios.
      // Loaded at the first request: its checks (serialport probes, the forwarder's config schema)
      // would otherwise stay in the gateway's heap for its whole life.
      doctor: async () => (await import('../doctor/doctor.js')).runDoctor({ dataDir: config.dataDir }),
      overview: (health) => consoleOverview(config, runtime, metrics, Date.now(), health),
      ...(runtime.sealer
        ? {
            sealNow: async () => {
              const sealed = await runtime.sealer?.sealNow();
              return (sealed ?? []).map((b) => ({ seq: b.seq, uplinks: b.uplinks }));
            },
          }
        : {}),
      logger,
    });
  } catch (err) {
    logger.error({ err: describeError(err) }, 'farm console not started; the gateway runs on without it');
    return undefined;
  }
}
