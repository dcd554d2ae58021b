/**
 * `maverick run`'s composition root: maps the validated config file onto the
 * gateway runtime (gateway/runtime.ts: radios → network server → store →
 * local broker), creates the radio backend(s) through the factory, and
 * serves metrics and status on [metrics] bind, seals bundles, and syncs them
 * over the [regional] links (MQTT, Iridium SBD satellite).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { firstBundle } from '../kernel/db/bundle-days.js';
import { monthOf } from '../kernel/db/period-statements.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import type { RadioBackend, TimeSource } from '../proto/radio.js';
import { resolveDataPath } from './config/paths.js';
import { radioConfigsOf } from './config/radio.js';
import type { MaverickConfig } from './config/schema.js';
import { readMqttPassword, refuseReadableConfigWithSecrets } from './config/secrets.js';
import { startConsoleFromConfig } from './console/from-config.js';
import { runHostCommand } from './doctor/host.js';
import { Metrics } from './metrics/metrics.js';
import { type MetricsServer, startMetricsServer } from './metrics/server.js';
import { watchSync } from './metrics/sync-metrics.js';
import { createRadioBackend } from './radio/factory.js';
import type { RegionalSyncOptions } from './regional-sync.js';
import { type GatewayRuntime, type MqttRuntimeOptions, startGatewayRuntime } from './runtime.js';
import { ensureStatusToken } from './status/token.js';
import { storeDirectory } from './store-access.js';

const CLOCK_CHECK_MS = 10 * 60_000;
const STORE_SIZE_MS = 30_000;

export interface RunningGateway {
  readonly metrics: Metrics;
  readonly runtime: GatewayRuntime;
  readonly backends: readonly RadioBackend[];
  /** e.g. http://127.0.0.1:8868 (serves /metrics and /status). */
  readonly metricsUrl: string;
  /** The farm console, when [console] is enabled and it started. */
  readonly consoleUrl?: string;
  /** Stops the runtime (radios, server, broker, store) and the metrics server; safe to call twice. */
  stop(): Promise<void>;
}

function mqttOptions(config: MaverickConfig): MqttRuntimeOptions {
  const password = readMqttPassword(config);
  if (config.mqtt.external_url) {
    return { kind: 'external', url: config.mqtt.external_url, username: config.mqtt.username, password };
  }
  const { tls } = config.mqtt;
  return {
    kind: 'embedded',
    host: config.mqtt.host,
    port: config.mqtt.port,
    username: config.mqtt.username,
    password,
    allowPlaintextBeyondLoopback: config.mqtt.allow_plaintext_lan,
    ...(tls
      ? { tls: { certPath: resolveDataPath(config, tls.cert), keyPath: resolveDataPath(config, tls.key) } }
      : {}),
  };
}

/**
 * [regional] → the runtime's sync option: MQTT when "mqtt" is in links and a
 * url is set; the SBD modem when "satellite" is in links (a missing modem
 * only keeps that link down). The order of `links` is the order of preference.
 */
export function regionalSyncOptions(config: MaverickConfig): { sync?: RegionalSyncOptions } {
  const { url, links, sbd_path, sbd_baud, satellite_daily_bytes, satellite_repeat_percent, node_key } =
    config.regional;
  const mqtt = links.includes('mqtt') && url !== undefined;
  const satellite = links.includes('satellite');
  if (!mqtt && !satellite) return {};
  return {
    sync: {
      ...(mqtt ? { regionalUrl: url } : {}),
      ...(mqtt && node_key !== undefined ? { regionalPublicKeyFile: resolveDataPath(config, node_key) } : {}),
      ...(satellite
        ? {
            satellite: {
              path: sbd_path,
              baudRate: sbd_baud,
              dailyBytes: satellite_daily_bytes,
              repeatShare: satellite_repeat_percent / 100,
            },
          }
        : {}),
      order: links,
    },
  };
}

/** Bytes of every file under `dir` (the store is a handful of SQLite files). */
function directoryBytes(dir: string): number {
  let total = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
    }
  } catch {
    // not created yet, or a file vanished between readdir and stat
  }
  return total;
}

/** NTP state of the host clock (timedatectl), checked now and then; the Pi has no RTC. */
async function hostClock(): Promise<TimeSource> {
  const ntp = await runHostCommand('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], 3000);
  return ntp.kind === 'exited' && ntp.code === 0 && ntp.stdout.trim() === 'yes' ? 'ntp' : 'host-unsynced';
}

function wireRadio(backend: RadioBackend, metrics: Metrics, logger: Logger): void {
  const log = logger.child({ backend: backend.kind });
  backend.on('uplink', ({ rx, phyPayload }) => {
    metrics.uplinkReceived({
      backend: backend.kind,
      frequencyHz: rx.frequencyHz,
      rssi: rx.rssi,
      ...(rx.snr === undefined ? {} : { snr: rx.snr }),
      timeSource: rx.time ? 'gps' : 'host-unsynced',
    });
    // A reception time from the concentrator means it has a GPS fix (proto/radio.ts RxMetadata.time).
    if (rx.time) metrics.setClockSource('gps', rx.time);
    log.debug(
      { gatewayEui: rx.gatewayEui, frequencyHz: rx.frequencyHz, rssi: rx.rssi, bytes: phyPayload.length },
      'radio uplink',
    );
  });
  backend.on('state', (change) => {
    metrics.setRadioBackendState(backend.kind, change.state);
    log.info({ state: change.state, detail: change.detail }, 'radio backend state');
  });
}

/** The newest sealed bundle's document (by sequence), if any. */
function latestBundle(db: GatewayRuntime['db']) {
  return db.bundles.findOne({ selector: { kind: 'bundle' }, sort: [{ id: 'desc' }] }).exec();
}

export async function startGateway(
  config: MaverickConfig,
  logger: Logger,
  options: { initStore?: boolean } = {},
): Promise<RunningGateway> {
  refuseReadableConfigWithSecrets(config);
  const metrics = new Metrics({ gatewayId: config.gateway.id, processMetrics: true });
  let clock: TimeSource = await hostClock();
  metrics.setClockSource(clock);
  const backends: RadioBackend[] = [];
  for (const radio of radioConfigsOf(config)) {
    const backend = await createRadioBackend(radio, logger);
    wireRadio(backend, metrics, logger);
    metrics.setRadioBackendState(backend.kind, backend.state);
    backends.push(backend);
  }
  let runtime: GatewayRuntime | undefined;
  const server: MetricsServer = await startMetricsServer({
    metrics,
    host: config.metrics.bind.host,
    port: config.metrics.bind.port,
    logger,
    gatewayId: config.gateway.id,
    // Actions need the data directory's token: only who can read it may seal or commit.
    actionToken: await ensureStatusToken(config.dataDir),
    actions: {
      // `maverick bundle seal` while the gateway runs: only this process may seal.
      '/seal': async () => {
        if (!runtime?.sealer) throw sealingDisabled();
        const sealed = await runtime.sealer.sealNow();
        return sealed.map((b) => ({ seq: b.seq, uplinks: b.uplinks, bytes: b.cose.length }));
      },
      // Commit the day of the latest sealed bundle now (a day is otherwise committed once a later day starts).
      '/commit': async () => {
        if (!runtime?.commitments) throw sealingDisabled();
        const latest = await latestBundle(runtime.db);
        if (!latest) return [];
        const made = await runtime.commitments.commitDay(Math.floor(latest.toMs / 86_400_000));
        await runtime.outbox?.refresh();
        return made
          ? [{ day: made.day, bundles: made.bundles, uplinks: made.uplinks, bytes: made.cose.length }]
          : [];
      },
      // Sign the period statement of the latest bundle's month so far, its day counted as closed now
      // (as /commit does); the statement goes into the outbox for the regional node.
      '/statement': async () => {
        if (!runtime?.periods) throw sealingDisabled();
        const latest = await latestBundle(runtime.db);
        if (!latest) return [];
        const toDay = Math.floor(latest.toMs / 86_400_000);
        const month = monthOf(toDay);
        // The month's earliest-ending bundle, through the (kind, toMs) index (no read of the month's bundles).
        const first = await firstBundle(runtime.db, { toMs: { $gte: month.fromDay * 86_400_000 } });
        const fromDay = Math.floor((first ?? latest).toMs / 86_400_000);
        const signed = await runtime.periods.sign(fromDay, toDay, (toDay + 1) * 86_400_000);
        await runtime.outbox?.refresh();
        return [{ fromDay, toDay, leaves: signed.leaves, days: signed.days, bytes: signed.cose.length }];
      },
    },
  });
  try {
    runtime = await startGatewayRuntime({
      dataDir: config.dataDir,
      gatewayId: config.gateway.id,
      regionId: config.gateway.region,
      netId: config.gateway.net_id,
      radios: backends,
      mqtt: mqttOptions(config),
      synchronous: config.store.synchronous,
      ...(options.initStore ? { initStore: true } : {}),
      hostTimeSource: () => clock,
      sealing: { periodMs: config.sealer.interval_minutes * 60_000 },
      ...regionalSyncOptions(config),
      logger,
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  const running = runtime;
  running.ns.on('join', () => metrics.joinHandled('accepted'));
  if (running.sync) watchSync(running.sync, metrics);
  // The outbox depth is live (status, doctor, the demo wait on it), not sampled.
  const outbox = running.outbox;
  if (outbox) {
    const depth = () => {
      metrics.setOutboxDepth(outbox.size);
      metrics.setOutboxQueues(
        new Set(outbox.parkedItems().map((p) => p.item.digest)),
        outbox.deferredItems().length,
      );
    };
    outbox.on('enqueued', depth);
    outbox.on('acked', depth);
    outbox.on('drained', depth);
    const rejectedItem = (item: { kind: string; seq: number; digest: string }, reason: string) => ({
      kind: item.kind,
      seq: item.seq,
      digest: item.digest,
      reason,
    });
    outbox.on('rejected', ({ item, reason }) => {
      metrics.outboxItemRejected(rejectedItem(item, reason), false);
      depth();
    });
    outbox.on('deferred', ({ item, reason }) => {
      metrics.outboxItemRejected(rejectedItem(item, reason), true);
      depth();
    });
  }
  running.ns.on('rejected', (rejection) => metrics.uplinkRejected(rejection.reason));
  metrics.setPipelineCounters(() => {
    const counters = running.counters();
    for (const backend of backends) {
      for (const [name, value] of Object.entries(backend.counters()))
        counters[`radio_${backend.kind}_${name}`] = value;
    }
    return counters;
  });
  running.ns.on('txack', (ack) => metrics.downlinkAcknowledged(ack.status));

  const storeDir = storeDirectory(config.dataDir);
  metrics.setStoreSizeBytes(directoryBytes(storeDir));
  const refreshCounts = async () => {
    metrics.setDeviceCount((await running.repository.listDevices()).length);
    metrics.setOutboxDepth(
      running.outbox?.size ?? (await running.db.bundles.count({ selector: { syncState: 'pending' } }).exec()),
    );
  };
  await refreshCounts();
  const timers = [
    setInterval(() => {
      metrics.setStoreSizeBytes(directoryBytes(storeDir));
      void refreshCounts().catch((err: unknown) =>
        logger.warn({ err: String(err) }, 'status counts not refreshed'),
      );
    }, STORE_SIZE_MS),
    setInterval(() => {
      void hostClock().then((source) => {
        clock = source;
        // GPS, once seen from the concentrator, is the better source; keep showing it.
        if (metrics.snapshot().clock.source !== 'gps') metrics.setClockSource(source);
      });
    }, CLOCK_CHECK_MS),
  ];
  for (const timer of timers) timer.unref();
  const farmConsole = await startConsoleFromConfig(config, running, metrics, logger);

  let stopped = false;
  return {
    metrics,
    runtime: running,
    backends,
    metricsUrl: server.url,
    ...(farmConsole ? { consoleUrl: farmConsole.url } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await farmConsole?.close();
      await running.stop();
      await server.close();
    },
  };
}

/** What a seal, commit or statement action answers on a gateway that has no signing key. */
function sealingDisabled(): MaverickError {
  return new MaverickError(ErrorCode.KeyMissing, 'sealing is disabled (no usable gateway key)', {
    hint: 'the gateway log says why at start; `maverick keys rotate` makes a new key, then restart the gateway',
  });
}
