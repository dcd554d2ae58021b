/**
 * The gateway runtime: every part of the field kernel wired together.
 *
 *   radio backends → network server → durable store (batched) → MQTT events
 *                         ↑                                  ↓
 *                   downlink commands  ←─────────────  local broker
 *
 * It takes explicit, already-resolved options (the config file is mapped onto
 * them by gateway/app.ts), so tests and the demo build it the same way
 * production does.
 */
import { getHeapStatistics } from 'node:v8';
import type { Sealer } from '../kernel/bundle/sealer.js';
import { CodecRunner } from '../kernel/codec/index.js';
import type { DailyCommitments } from '../kernel/db/commitments.js';
import { FarmDownlinkState } from '../kernel/db/downlink-state.js';
import { type FarmDatabase, openFarmDatabase } from '../kernel/db/farm-db.js';
import { UplinkIngestor, uplinkRecordOf } from '../kernel/db/ingest.js';
import { RxdbNetworkRepository } from '../kernel/db/network-repository.js';
import type { PeriodStatements } from '../kernel/db/period-statements.js';
import { NetworkServer } from '../kernel/ns/index.js';
import type { Outbox, SyncEngine } from '../kernel/outbox/index.js';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import type { SynchronousMode } from '../kernel/store/sqlite-driver.js';
import { describeError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { DownlinkCommand } from '../proto/mqtt/index.js';
import type { RadioBackend, TimeSource } from '../proto/radio.js';
import type { RegionId } from '../proto/regions/types.js';
import { handleDownlinkCommand, reportInvalidCommand } from './downlink-commands.js';
import { EventBacklog } from './event-backlog.js';
import { rejectionLogEvent } from './event-logs.js';
import {
  ackEvent,
  joinEvent,
  logEvent,
  type OutgoingEvent,
  statusEvent,
  txAckEvent,
  upEvent,
  uplinkCodecLogEvent,
} from './events.js';
import { logJoin, logUplink } from './journal.js';
import { LoadGauge } from './load-gauge.js';
import { MqttBroker } from './mqtt/broker.js';
import { EmbeddedPublisher } from './mqtt/embedded-publisher.js';
import type { EventPublisher } from './mqtt/publisher.js';
import { type RegionalSyncOptions, startRegionalSync } from './regional-sync.js';
import { backlogBudgetFor, bundleSizeFor, SEALING_BUSY_UPLINKS } from './runtime-limits.js';
import type { SatelliteModemSlot } from './satellite-modem-slot.js';
import {
  createDailyCommitments,
  createPeriodStatements,
  createSealer,
  type SealingOptions,
} from './sealing.js';
import { GATEWAY_DATABASE_NAME, markStoreCreated, prepareStoreFiles, storeDirectory } from './store-files.js';

export type MqttRuntimeOptions =
  | {
      kind: 'embedded';
      host: string;
      port: number;
      username: string;
      password: string;
      tls?: { keyPath: string; certPath: string };
      /** mqtt.allow_plaintext_lan: listen beyond loopback without TLS. */
      allowPlaintextBeyondLoopback?: boolean;
    }
  | { kind: 'external'; url: string; username?: string; password?: string };

export interface GatewayRuntimeOptions {
  dataDir: string;
  gatewayId: string;
  regionId: RegionId;
  netId?: string;
  radios: RadioBackend[];
  mqtt: MqttRuntimeOptions;
  synchronous?: SynchronousMode;
  dedupWindowMs?: number;
  hostTimeSource?: () => TimeSource;
  /** Seal bundles on a schedule (needs the gateway key from `maverick init`); off when absent. */
  sealing?: SealingOptions;
  /**
   * Sync sealed evidence to the regional node (outbox + sync engine) over MQTT
   * and/or the Iridium SBD satellite link (gateway/regional-sync.ts); off when absent.
   */
  sync?: RegionalSyncOptions;
  /** Start an empty store although this data directory had one (`maverick run --init-store`). */
  initStore?: boolean;
  /** Ingest batching (default 100 ms / 500 uplinks). */
  ingest?: { maxBatch?: number };
  logger?: Logger;
}

export interface GatewayRuntime {
  readonly db: FarmDatabase;
  readonly ns: NetworkServer;
  readonly repository: RxdbNetworkRepository;
  readonly ingestor: UplinkIngestor;
  readonly codecs: CodecRunner;
  readonly publisher: EventPublisher;
  /** Present when sealing is configured and the gateway key exists. */
  readonly sealer?: Sealer;
  /** Present with the sealer: signs one commitment per UTC day of sealed bundles. */
  readonly commitments?: DailyCommitments;
  /** Present with the sealer: signs period statements (each closed month; a range on request). */
  readonly periods?: PeriodStatements;
  /** Present when sync is configured. */
  readonly outbox?: Outbox;
  readonly sync?: SyncEngine;
  /** The satellite modem, when the satellite link is configured. */
  readonly satellite?: SatelliteModemSlot;
  /** The embedded broker's bound address, when embedded. */
  readonly broker?: { host: string; port: number };
  counters(): Record<string, number>;
  stop(): Promise<void>;
}

export async function startGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const logger = options.logger ?? silentLogger;
  const storeDir = storeDirectory(options.dataDir);
  // 0700 / 0600 before SQLite writes a byte; a lost store refuses to come back empty.
  prepareStoreFiles(options.dataDir, options.initStore ? { initStore: true } : {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err: describeError(err) }, 'shutdown step failed');
      }
    }
    cleanups.length = 0;
  };

  try {
    const db = await openFarmDatabase({
      storage: getRxStorageSqlite({
        directory: storeDir,
        synchronous: options.synchronous ?? 'FULL',
        logger,
      }),
      name: GATEWAY_DATABASE_NAME,
    });
    cleanups.push(() => db.close());
    markStoreCreated(options.dataDir);
    const repository = await RxdbNetworkRepository.open(db);
    cleanups.push(() => repository.close());
    const ingestor = new UplinkIngestor(db, { ...options.ingest, logger });
    cleanups.push(() => ingestor.close());
    const codecs = new CodecRunner({ logger });
    cleanups.push(() => codecs.close());

    let broker: MqttBroker | undefined;
    let publisher: EventPublisher;
    if (options.mqtt.kind === 'embedded') {
      const m = options.mqtt;
      const started = await MqttBroker.start({
        host: m.host,
        port: m.port,
        username: m.username,
        password: m.password,
        ...(m.tls ? { tls: m.tls } : {}),
        ...(m.allowPlaintextBeyondLoopback ? { allowPlaintextBeyondLoopback: true } : {}),
        logger,
      });
      broker = started;
      cleanups.push(() => started.close());
      publisher = await EmbeddedPublisher.create(started, { gatewayEui: options.gatewayId, logger });
    } else {
      // Loaded only here: an embedded-broker gateway (the default) never needs the mqtt.js client.
      const { ExternalPublisher } = await import('./mqtt/external-publisher.js');
      publisher = await ExternalPublisher.connect({
        url: options.mqtt.url,
        ...(options.mqtt.username ? { username: options.mqtt.username } : {}),
        ...(options.mqtt.password ? { password: options.mqtt.password } : {}),
        gatewayEui: options.gatewayId,
        logger,
      });
    }
    cleanups.push(() => publisher.close());

    const hostTimeSource = options.hostTimeSource ?? (() => 'host-unsynced' as TimeSource);
    const ns = new NetworkServer({
      repository,
      radios: options.radios,
      regionId: options.regionId,
      ...(options.netId ? { netId: options.netId } : {}),
      ...(options.dedupWindowMs !== undefined ? { dedupWindowMs: options.dedupWindowMs } : {}),
      hostTimeSource,
      logger,
      // The codec answers `data` (TTS/ChirpStack codec convention); the network server calls it `object`.
      decodePayload: async (device, fPort, bytes, receivedAt) => {
        const decoded = await codecs.decodeUplink(device.codec, { bytes, fPort, recvTime: receivedAt });
        return {
          ...(decoded.data ? { object: decoded.data } : {}),
          warnings: decoded.warnings,
          errors: decoded.errors,
        };
      },
      // The store commits the uplink before its event is published (issue 4).
      beforePublish: (up) => ingestor.store(uplinkRecordOf(up)),
      // Queued downlinks and each gateway's duty-cycle use survive a restart.
      downlinkState: new FarmDownlinkState(db),
      maxBacklogBytes: backlogBudgetFor(getHeapStatistics().heap_size_limit),
    });

    const events = new EventBacklog({ publisher, logger, hold: (held) => ns.holdUplinks('events', held) });
    const publish = (event: OutgoingEvent | undefined) => events.publish(event);
    ns.on('up', (up) => {
      logUplink(logger, up);
      publish(upEvent(up));
      publish(uplinkCodecLogEvent(up));
    });
    ns.on('join', (e) => {
      logJoin(logger, e);
      publish(joinEvent(e, hostTimeSource()));
    });
    ns.on('ack', (e) => publish(ackEvent(e, hostTimeSource())));
    ns.on('txack', (e) => {
      repository
        .getSession(e.device.devEui)
        .then((session) => publish(txAckEvent(e, hostTimeSource(), session?.rxDelay)))
        .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'txack event not built'));
    });
    ns.on('status', (e) => publish(statusEvent(e, hostTimeSource())));
    ns.on('log', (e) => publish(logEvent(e, hostTimeSource())));

    ns.on('rejected', (rejection) => {
      rejectionLogEvent(rejection, repository, options.gatewayId, hostTimeSource())
        .then(publish)
        .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'rejection log event not built'));
    });

    const commandDeps = { repository, codecs, ns, publish, logger, timeSource: hostTimeSource };
    publisher.onCommand(
      (command: DownlinkCommand) => handleDownlinkCommand(command, commandDeps).then(() => undefined),
      (error, topic) => {
        reportInvalidCommand(error, topic, commandDeps).catch(() => undefined);
      },
    );

    let outbox: Outbox | undefined;
    let sync: SyncEngine | undefined;
    let satellite: SatelliteModemSlot | undefined;
    if (options.sync) {
      const regional = await startRegionalSync(db, options.gatewayId, options.sync, logger);
      cleanups.push(() => regional.stop());
      outbox = regional.outbox;
      sync = regional.engine;
      satellite = regional.satellite;
      // A permanent rejection is an alarm: the bundle stays here, unsent, until someone looks.
      const alarmTopic = `gateway/${options.gatewayId}/state/alarm`;
      outbox.on('rejected', ({ item, reason }) => {
        publisher
          .publishEvent(alarmTopic, {
            alarm: 'outbox-item-rejected',
            kind: item.kind,
            seq: item.seq,
            digest: item.digest,
            reason,
            at: new Date().toISOString(),
          })
          .catch(() => undefined);
      });
      sync.on('linkState', (change) => {
        logger.info({ link: change.link, up: change.up }, 'regional link state');
        publisher
          .publishEvent(`gateway/${options.gatewayId}/state/link`, {
            ...change,
            at: new Date(change.at).toISOString(),
          })
          .catch(() => undefined);
      });
    }

    let sealer: Sealer | undefined;
    let commitments: DailyCommitments | undefined;
    let periodStatements: PeriodStatements | undefined;
    if (options.sealing) {
      try {
        const onSealed = options.sealing.onSealed;
        const load = new LoadGauge();
        load.start();
        cleanups.push(async () => load.stop());
        const daily = await createDailyCommitments(
          options.dataDir,
          db,
          options.gatewayId,
          options.sealing.scope,
        );
        commitments = daily;
        const periods = await createPeriodStatements(
          options.dataDir,
          db,
          options.gatewayId,
          options.sealing.scope,
        );
        periodStatements = periods;
        sealer = await createSealer(
          options.dataDir,
          db,
          options.gatewayId,
          {
            maxUplinksPerBundle: bundleSizeFor(getHeapStatistics().heap_size_limit),
            busy: () => ns.backlog().uplinks > SEALING_BUSY_UPLINKS || load.busy(),
            ...options.sealing,
            // The sink wrote the bundle as a pending outbox document; the outbox picks it up.
            // A bundle ending on a later day closes the days before it: commit them too.
            onSealed: (bundle) => {
              onSealed?.(bundle);
              // A bundle ending in a later month closes the month before it: sign its statement.
              void daily
                .commitClosedDays(bundle.timeRange.end)
                .then(() => periods.signClosedMonths(bundle.timeRange.end))
                .then(() => outbox?.refresh())
                .catch((err: unknown) =>
                  logger.warn(
                    { err: describeError(err) },
                    'daily commitment, period statement or outbox refresh failed',
                  ),
                );
            },
          },
          logger,
        );
        const s = sealer;
        s.start(options.sealing.checkEveryMs ?? 60_000);
        // Stopping seals nothing more; an unfinished bundle is completed at the next start.
        cleanups.push(async () => s.stop());
      } catch (err) {
        logger.error(
          { err: describeError(err) },
          'sealing disabled: no usable gateway key (run `maverick init` or `maverick keys rotate`)',
        );
      }
    }

    await ns.start();
    cleanups.push(async () => ns.stop());
    for (const radio of options.radios) {
      await radio.start();
      cleanups.push(() => radio.stop());
    }
    // cleanup() runs these in reverse: radios, server, publisher, broker, codecs, ingest flush, store.
    const address = broker?.address();
    logger.info(
      { gatewayId: options.gatewayId, radios: options.radios.map((r) => r.kind), mqtt: address },
      'gateway runtime up',
    );
    return {
      db,
      ns,
      repository,
      ingestor,
      codecs,
      publisher,
      ...(sealer ? { sealer } : {}),
      ...(commitments ? { commitments } : {}),
      ...(periodStatements ? { periods: periodStatements } : {}),
      ...(outbox ? { outbox } : {}),
      ...(sync ? { sync } : {}),
      ...(satellite ? { satellite } : {}),
      ...(address ? { broker: address } : {}),
      counters: () => ({
        ...ns.counters(),
        ...prefix('ingest_', { ...ingestor.counters }),
        // Gauges, not counters: what waits right now.
        ...prefix('backlog_', { ...ns.backlog(), events: events.pending() }),
      }),
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function prefix(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, v]));
}
