/**
 * The offline LoRaWAN network server: radio uplinks in, de-duplicated, joined
 * or verified and decoded, stored (through `beforePublish`) and only then
 * published as events; Class A downlinks out through the gateway that heard
 * the device best.
 *
 * Events (ChirpStack's integration events, same names): `up`, `join`, `ack`,
 * `txack`, `status`, `log`, and `rejected` for every frame turned away.
 */
import { EventEmitter } from 'node:events';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { type DataFrame, decodePhy } from '../../proto/lorawan/index.js';
import type { RxMetadata } from '../../proto/radio.js';
import { DEFAULT_INSTALLATION_MARGIN_DB } from './adr.js';
import { type AnswerContext, answerUplink } from './answer.js';
import { BacklogBudget, DEFAULT_HOLD_BACKLOG_BYTES, DropWarning, frameCost } from './backlog-budget.js';
import { type CollectedUplink, Deduplicator } from './dedup.js';
import { ClassAScheduler } from './downlink.js';
import { DownlinkLanes } from './downlink-lanes.js';
import { DownlinkQueue, type DownlinkRequest } from './downlink-queue.js';
import { DownlinkReporter } from './downlink-reports.js';
import { answerJoin } from './join-answer.js';
import { JoinServer } from './join-server.js';
import type { NetworkServerEvents, NetworkServerOptions } from './network-server-options.js';
import { RadioIntake } from './radio-intake.js';
import type { Rejection } from './rejection.js';
import { KeyedSerialExecutor } from './serial-executor.js';
import { type SessionParameters, sessionParameters } from './session.js';
import { SessionsAhead } from './sessions-ahead.js';
import { Transmitter } from './transmitter.js';
import { normalizeHex, type RegionId } from './types.js';
import { findByMic, UplinkProcessor } from './uplink.js';
import type { DeviceInfo } from './uplink-types.js';

export type { NetworkServerEvents, NetworkServerOptions } from './network-server-options.js';

export class NetworkServer extends EventEmitter<NetworkServerEvents> {
  readonly queue: DownlinkQueue;
  private readonly logger: Logger;
  private readonly dedup: Deduplicator;
  private readonly joinServer: JoinServer;
  private readonly uplinks: UplinkProcessor;
  private readonly transmitter: Transmitter;
  private readonly scheduler: ClassAScheduler;
  /** Join requests, one after another per DevEUI (bounded per device). */
  private readonly joinLanes: KeyedSerialExecutor;
  /** Data frames' checks and hand-over to the store, one after another per DevAddr. */
  private readonly uplinkLanes: KeyedSerialExecutor;
  /** What follows a data frame's commit (session, events, answer), in the same order per DevAddr. */
  private readonly publishLanes: KeyedSerialExecutor;
  private readonly sessions: SessionsAhead;
  private readonly budget: BacklogBudget;
  private readonly downlinks: DownlinkLanes;
  /** Data frames between arrival and their MIC check (flush() waits for them too). */
  private readonly admitting = new Set<Promise<void>>();
  private readonly intake: RadioIntake;
  private readonly reports: DownlinkReporter;
  private readonly answers: AnswerContext; // built once: an object of closures per uplink showed
  private readonly counts: Record<string, number> = {};
  private running = false;
  private readonly dropWarning: DropWarning;

  constructor(private readonly options: NetworkServerOptions) {
    super();
    this.logger = (options.logger ?? silentLogger).child({ module: 'ns' });
    this.queue = new DownlinkQueue({
      store: options.downlinkState,
      onWriteError: (err, devEui) => {
        this.count('downlink_queue_write_failed');
        this.logger.error({ devEui, err: describeError(err) }, 'downlink queue could not be stored');
      },
      onExpired: (item) => this.reports.expired(item, options.repository),
    });
    this.intake = new RadioIntake(
      options.radios,
      (uplink) => {
        this.count('radio_uplinks');
        this.dedup.add(uplink);
        this.backlogChanged();
      },
      options.holdBacklogBytes ?? DEFAULT_HOLD_BACKLOG_BYTES,
    );
    this.reports = new DownlinkReporter({
      logger: this.logger,
      count: (name) => this.count(name),
      emitLog: (event) => this.safeEmit('log', event),
      emitTxAck: (event) => this.safeEmit('txack', event),
    });
    const { dedupWindowMs: windowMs, soleReceiverAfterMs } = options;
    this.dedup = new Deduplicator((u) => this.onCollected(u), { windowMs, soleReceiverAfterMs });
    this.joinServer = new JoinServer({
      repository: options.repository,
      netId: options.netId ?? '000000',
      parametersFor: (device) => this.parametersFor(device.regionId),
    });
    this.sessions = new SessionsAhead(options.repository);
    this.budget = new BacklogBudget(options.maxBacklogBytes ?? 32 * 1024 * 1024);
    this.dropWarning = new DropWarning(this.logger);
    this.uplinks = new UplinkProcessor({
      repository: this.sessions,
      decodePayload: options.decodePayload,
      hostTimeSource: options.hostTimeSource,
      installationMarginDb: options.installationMarginDb ?? DEFAULT_INSTALLATION_MARGIN_DB,
    });
    this.transmitter = new Transmitter({
      logger: this.logger,
      now: options.now,
      ...(options.downlinkState ? { state: options.downlinkState } : {}),
    });
    this.scheduler = new ClassAScheduler(this.transmitter, this.queue, this.logger);
    const laneFailed = (err: unknown, key: string) => {
      this.count('internal_errors');
      this.logger.error({ key, err: describeError(err) }, 'uplink processing failed');
    };
    this.joinLanes = new KeyedSerialExecutor(laneFailed, options.maxPendingJoinsPerDevice ?? 32);
    this.uplinkLanes = new KeyedSerialExecutor(laneFailed);
    this.publishLanes = new KeyedSerialExecutor(laneFailed);
    this.downlinks = new DownlinkLanes(
      (err, key) => {
        this.count('internal_errors');
        this.logger.error({ key, err: describeError(err) }, 'downlink attempt failed');
      },
      () => this.count('downlinks_replaced'),
    );
    this.answers = {
      repository: this.options.repository,
      sessions: this.sessions,
      uplinks: this.uplinks,
      scheduler: this.scheduler,
      queue: this.queue,
      logger: this.logger,
      beforePublish: this.options.beforePublish,
      devStatusIntervalMs: this.options.devStatusIntervalMs ?? 86_400_000,
      parametersFor: (regionId: RegionId) => this.parametersFor(regionId),
      routeFor: (rxInfo: readonly RxMetadata[]) => this.intake.routeFor(rxInfo),
      count: (name: string) => this.count(name),
      reject: (rejection: Rejection) => this.reject(rejection),
      emit: <K extends keyof NetworkServerEvents>(event: K, ...args: NetworkServerEvents[K]) =>
        this.safeEmit(event, ...args),
      reportTransmit: (info, result, downlinkId, fCntDown) =>
        this.reports.transmitted(info, result, downlinkId, fCntDown),
      logNoRoute: (info: DeviceInfo) => this.reports.noRoute(info),
      submitDownlink: (devEui, attempt) => this.downlinks.submit(devEui, attempt),
      inUplinkLane: (devAddr: string, task: () => Promise<void>) =>
        new Promise<void>((resolve) => {
          this.uplinkLanes.run(devAddr, () => task().finally(resolve));
        }),
      afterEarlier: (devAddr, task) => void this.publishLanes.run(devAddr, task),
    };
  }

  /** Subscribes to every radio's uplinks. Radios are started and stopped by their owner. */
  async start(): Promise<void> {
    if (this.running) return;
    const restored = await this.queue.load();
    if (restored > 0) this.logger.info({ downlinks: restored }, 'queued downlinks restored');
    this.running = true;
    this.intake.subscribe();
  }

  /** Unsubscribes, hands over frames still being collected, and waits for processing to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.intake.unsubscribe();
    await this.settle();
    await this.queue.idle();
  }

  /** Releases frames still in the de-duplication window and waits until they are stored and published. */
  async flush(): Promise<void> {
    this.dedup.flush();
    while (this.admitting.size > 0) await Promise.all([...this.admitting]);
    await this.lanesIdle();
  }

  private async lanesIdle(): Promise<void> {
    do {
      await this.joinLanes.idle();
      await this.uplinkLanes.idle();
      await this.publishLanes.idle();
    } while (this.joinLanes.pending() + this.uplinkLanes.pending() + this.publishLanes.pending() > 0);
  }

  /** Like flush(), and also waits for every downlink attempt (and its session update) to finish. */
  async settle(): Promise<void> {
    await this.flush();
    await this.downlinks.idle();
    await this.lanesIdle();
  }

  /**
   * Data frames between their MIC check and their publication (and the bytes they are charged
   * against maxBacklogBytes), and devices with a downlink attempt running.
   */
  backlog(): { uplinks: number; uplinkBytes: number; downlinks: number } {
    return {
      uplinks: this.budget.pending(),
      uplinkBytes: this.budget.usedBytes(),
      downlinks: this.downlinks.size(),
    };
  }

  /** Queues an application payload for the device's next receive window; returns its id. */
  async enqueueDownlink(devEui: string, request: DownlinkRequest): Promise<string> {
    const id = normalizeHex(devEui, 8, 'devEui');
    if (!(await this.options.repository.getDevice(id))) {
      throw new MaverickError(ErrorCode.LorawanUnknownDevice, `no device with devEui ${id}`, {
        hint: 'register it first (`maverick device add`)',
        context: { devEui: id },
      });
    }
    return (await this.queue.enqueue(id, request)).id;
  }

  /** Holds uplinks back at the radios for `holder` (a consumer downstream that is behind), or ends it. */
  holdUplinks(holder: string, held: boolean): void {
    this.intake.holdFor(holder, held);
  }

  counters(): Readonly<Record<string, number>> {
    const holds = this.intake.holdCount();
    const late: Record<string, number> = this.dedup.late > 0 ? { copies_late: this.dedup.late } : {};
    return holds > 0 ? { ...this.counts, ...late, radio_holds: holds } : { ...this.counts, ...late };
  }

  private onCollected(collected: CollectedUplink): void {
    this.count('uplinks');
    this.backlogChanged(); // a frame left the de-duplication window: a hold may end
    let frame: ReturnType<typeof decodePhy>;
    try {
      frame = decodePhy(collected.phyPayload);
    } catch (err) {
      this.reject({
        reason: 'malformed',
        message: describeError(err),
        gatewayEui: collected.rxInfo[0]?.gatewayEui,
      });
      return;
    }
    if (frame.kind === 'join-request') {
      const joins = { ...this.answers, joinServer: this.joinServer, transmitter: this.transmitter };
      if (!this.joinLanes.run(frame.devEui, () => answerJoin(joins, collected, frame))) {
        this.count('joins_dropped_backlog');
      }
    } else if (frame.kind === 'data' && frame.uplink) {
      const admission = this.admitData(collected, frame);
      this.admitting.add(admission);
      void admission.finally(() => this.admitting.delete(admission));
    } else {
      this.reject({
        reason: 'unsupported_mtype',
        message: `${frame.kind === 'data' ? frame.mType : 'JoinAccept'} heard on the uplink path; ignored`,
        gatewayEui: collected.rxInfo[0]?.gatewayEui,
      });
    }
  }

  /**
   * A data frame enters its device's lane only once some session's key signs it: a flood of
   * frames that fail the MIC costs the check and nothing else (no queued task per frame). The
   * backlog is bounded by memory over all devices; a frame beyond it is dropped and counted.
   * (The lookup answers from memory for known DevAddrs, so frames of one device keep their order.)
   */
  private async admitData(collected: CollectedUplink, frame: DataFrame): Promise<void> {
    const gatewayEui = collected.rxInfo[0]?.gatewayEui;
    // Read-only: the MIC check changes nothing, so the sessions ahead need no copy here.
    const candidates = await this.sessions.devicesByDevAddr(frame.devAddr, true).catch((err: unknown) => {
      this.count('internal_errors');
      this.logger.error({ devAddr: frame.devAddr, err: describeError(err) }, 'session lookup failed');
      return undefined;
    });
    if (!candidates) return;
    if (candidates.length === 0) {
      return this.reject({
        reason: 'unknown_device',
        message: `no session with DevAddr ${frame.devAddr}`,
        devAddr: frame.devAddr,
        gatewayEui,
      });
    }
    const match = findByMic(candidates, frame);
    if (!match) {
      return this.reject({
        reason: 'bad_mic',
        message: `MIC of a frame from DevAddr ${frame.devAddr} matches no session`,
        devAddr: frame.devAddr,
        devEui: candidates.length === 1 ? candidates[0]?.device.devEui : undefined,
        gatewayEui,
        details: { fCnt16: frame.fCnt16, candidates: candidates.length },
      });
    }
    const cost = frameCost(collected.phyPayload.length, collected.rxInfo.length);
    // While every radio holds uplinks back, frames in flight before the hold go beyond the budget.
    const taken = this.budget.take(cost, this.intake.holding());
    this.backlogChanged();
    if (!taken) {
      this.count('uplinks_dropped_backlog');
      this.dropWarning.dropped({ devAddr: frame.devAddr, fCnt16: frame.fCnt16, gatewayEui }, this.budget);
      return;
    }
    const verified = { nwkSKey: match.active.session.nwkSKey, fCnt32: match.fCnt32 };
    this.uplinkLanes.run(frame.devAddr, () =>
      answerUplink(this.answers, collected, frame, verified).finally(() =>
        // Released after whatever the frame queued in the publish lane.
        this.publishLanes.run(frame.devAddr, async () => {
          this.budget.release(cost);
          this.backlogChanged();
        }),
      ),
    );
  }

  /** What the hold decision weighs: admitted frames and those still being collected (BacklogBudget.weighing). */
  private backlogChanged(): void {
    this.intake.backlogChanged(this.budget.weighing(this.dedup.size), this.budget.limitBytes);
  }

  private parametersFor(regionId: RegionId): SessionParameters {
    return sessionParameters(regionId, this.options.sessionParameters?.[regionId]);
  }

  private reject(rejection: Rejection): void {
    this.count(`rejected_${rejection.reason}`);
    this.logger.warn(
      {
        reason: rejection.reason,
        devEui: rejection.devEui,
        devAddr: rejection.devAddr,
        gatewayEui: rejection.gatewayEui,
        ...rejection.details,
      },
      rejection.message,
    );
    this.safeEmit('rejected', rejection);
  }

  private count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  /** A throwing listener must not break the pipeline (EventEmitter would rethrow into us). */
  private safeEmit<K extends keyof NetworkServerEvents>(event: K, ...args: NetworkServerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: NetworkServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error({ event, err: describeError(err) }, 'event listener threw');
    }
  }
}
