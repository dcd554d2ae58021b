/**
 * The gateway's counters: one prom-client registry (not the global one, so
 * several gateways can live in one process, e.g. the demo and tests) plus a
 * JSON snapshot for `maverick status` and `maverick doctor`. The composition
 * root calls the typed methods; nothing here knows about radios or stores.
 * Metric names follow the Prometheus naming guide (base units, `_total`).
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RadioBackendState, TimeSource, TxAckStatus } from '../../proto/radio.js';

export type LinkState = 'up' | 'down' | 'connecting';
const LINK_STATES: readonly LinkState[] = ['up', 'down', 'connecting'];
const RADIO_STATES: readonly RadioBackendState[] = ['starting', 'up', 'down', 'reconnecting', 'stopped'];
const RECENT_UPLINKS = 20;

export interface UplinkSeen {
  backend: string;
  devEui?: string;
  fCnt?: number;
  frequencyHz?: number;
  rssi?: number;
  snr?: number;
  /** Where the reception time came from. */
  timeSource?: TimeSource;
}

export interface ParkedItem {
  kind: string;
  seq: number;
  digest: string;
  reason: string;
  at: string;
}

export interface StatusSnapshot {
  gatewayId: string | undefined;
  startedAt: string;
  uptimeSeconds: number;
  devices: number;
  uplinks: { received: number; rejected: Record<string, number>; lastAt?: string };
  joins: Record<string, number>;
  downlinks: Record<string, number>;
  store: { sizeBytes: number };
  outbox: {
    depth: number;
    /** Items the regional node refused for good: kept, not resent, an operator must look (alarm). */
    parked: ParkedItem[];
    /** Items refused for a reason of the regional node's own (unknown key, store down), backing off. */
    retrying: number;
  };
  links: Record<string, { state: LinkState; bytesSent: number }>;
  radio: Record<string, { state: RadioBackendState; uplinks: number; lastUplinkAt?: string }>;
  clock: { source: TimeSource; lastGpsTime?: string };
  recentUplinks: (UplinkSeen & { at: string })[];
  /**
   * The uplink pipeline's own counters (network server, ingest, radio backends), read live:
   * e.g. `uplinks_dropped_backlog`, `ingest_stored`, `radio_semtech-udp_rxpkReceived`.
   */
  pipeline: Record<string, number>;
}

export interface MetricsOptions {
  gatewayId?: string;
  /** Node process metrics (CPU, memory, event loop lag); off in tests that compare output. */
  processMetrics?: boolean;
  now?: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly startedAtMs: number;
  private readonly uplinks: Counter<'backend'>;
  private readonly rejections: Counter<'reason'>;
  private readonly joins: Counter<'result'>;
  private readonly downlinks: Counter<'status'>;
  private readonly storeSize: Gauge;
  private readonly outboxDepth: Gauge;
  private readonly outboxRejected: Counter<'reason' | 'transient'>;
  private readonly outboxParked: Gauge;
  private readonly deviceCount: Gauge;
  private readonly linkState: Gauge<'link' | 'state'>;
  private readonly linkBytes: Counter<'link'>;
  private readonly radioState: Gauge<'backend' | 'state'>;
  private readonly clockSourceGauge: Gauge<'source'>;
  private readonly status: StatusSnapshot;
  private pipelineSource: () => Readonly<Record<string, number>> = () => ({});

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedAtMs = this.now();
    const registers = [this.registry];
    this.uplinks = new Counter({
      name: 'maverick_uplinks_received_total',
      help: 'LoRaWAN uplinks received from the radio, by backend',
      labelNames: ['backend'],
      registers,
    });
    this.rejections = new Counter({
      name: 'maverick_uplinks_rejected_total',
      help: 'Uplinks dropped, by reason (bad MIC, replay, unknown device, malformed, crc)',
      labelNames: ['reason'],
      registers,
    });
    this.joins = new Counter({
      name: 'maverick_joins_total',
      help: 'OTAA join requests, by result',
      labelNames: ['result'],
      registers,
    });
    this.downlinks = new Counter({
      name: 'maverick_downlinks_total',
      help: 'Downlinks by transmit acknowledgement status (OK or the tx error)',
      labelNames: ['status'],
      registers,
    });
    this.storeSize = new Gauge({
      name: 'maverick_store_size_bytes',
      help: 'Telemetry store size on disk',
      registers,
    });
    this.outboxDepth = new Gauge({
      name: 'maverick_outbox_depth',
      help: 'Sealed bundles not yet acknowledged by the regional node',
      registers,
    });
    this.outboxRejected = new Counter({
      name: 'maverick_outbox_rejected_total',
      help: 'Outbox items the regional node rejected (signed ack), by reason and whether it is transient (retried)',
      labelNames: ['reason', 'transient'],
      registers,
    });
    this.outboxParked = new Gauge({
      name: 'maverick_outbox_parked',
      help: 'Outbox items rejected for good by the regional node: kept, not resent (alarm when above 0)',
      registers,
    });
    this.deviceCount = new Gauge({ name: 'maverick_devices', help: 'Registered end devices', registers });
    const pipeline = () => this.pipelineSource();
    new Gauge({
      name: 'maverick_pipeline_events',
      help: 'Uplink pipeline counters by name (network server, ingest, radio backends), e.g. uplinks_dropped_backlog',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, value] of Object.entries(pipeline())) this.set({ name }, value);
      },
    });
    this.linkState = new Gauge({
      name: 'maverick_link_state',
      help: 'Regional link state: 1 for the current state of each link, 0 otherwise',
      labelNames: ['link', 'state'],
      registers,
    });
    this.linkBytes = new Counter({
      name: 'maverick_link_bytes_sent_total',
      help: 'Bytes sent to the regional node, by link',
      labelNames: ['link'],
      registers,
    });
    this.radioState = new Gauge({
      name: 'maverick_radio_backend_state',
      help: 'Radio backend state: 1 for the current state of each backend, 0 otherwise',
      labelNames: ['backend', 'state'],
      registers,
    });
    this.clockSourceGauge = new Gauge({
      name: 'maverick_clock_source',
      help: 'Where timestamps come from: 1 for the current source (gps, ntp, host-unsynced)',
      labelNames: ['source'],
      registers,
    });
    if (options.processMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'maverick_process_' });
    this.status = {
      gatewayId: options.gatewayId,
      startedAt: new Date(this.startedAtMs).toISOString(),
      uptimeSeconds: 0,
      devices: 0,
      uplinks: { received: 0, rejected: {} },
      joins: {},
      downlinks: {},
      store: { sizeBytes: 0 },
      outbox: { depth: 0, parked: [], retrying: 0 },
      links: {},
      radio: {},
      clock: { source: 'host-unsynced' },
      recentUplinks: [],
      pipeline: {},
    };
    this.setClockSource('host-unsynced');
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  uplinkReceived(uplink: UplinkSeen): void {
    this.uplinks.inc({ backend: uplink.backend });
    const at = this.isoNow();
    this.status.uplinks.received++;
    this.status.uplinks.lastAt = at;
    const radio = this.radioEntry(uplink.backend);
    radio.uplinks++;
    radio.lastUplinkAt = at;
    this.status.recentUplinks.unshift({ ...uplink, at });
    this.status.recentUplinks.length = Math.min(this.status.recentUplinks.length, RECENT_UPLINKS);
  }

  uplinkRejected(reason: string): void {
    this.rejections.inc({ reason });
    this.status.uplinks.rejected[reason] = (this.status.uplinks.rejected[reason] ?? 0) + 1;
  }

  joinHandled(result: 'accepted' | 'rejected'): void {
    this.joins.inc({ result });
    this.status.joins[result] = (this.status.joins[result] ?? 0) + 1;
  }

  /** `status` is OK or the tx error (TxAckStatus values, or what the scheduler reports). */
  downlinkAcknowledged(status: TxAckStatus | string): void {
    this.downlinks.inc({ status });
    this.status.downlinks[status] = (this.status.downlinks[status] ?? 0) + 1;
  }

  setStoreSizeBytes(bytes: number): void {
    this.storeSize.set(bytes);
    this.status.store.sizeBytes = bytes;
  }

  setOutboxDepth(bundles: number): void {
    this.outboxDepth.set(bundles);
    this.status.outbox.depth = bundles;
  }

  /** A signed rejection from the regional node; a permanent one is listed in status until `setOutboxParked` drops it. */
  outboxItemRejected(item: Omit<ParkedItem, 'at'>, transient: boolean): void {
    this.outboxRejected.inc({ reason: item.reason, transient: String(transient) });
    if (transient) return;
    this.status.outbox.parked = [
      ...this.status.outbox.parked.filter((p) => p.digest !== item.digest),
      { ...item, at: this.isoNow() },
    ];
    this.outboxParked.set(this.status.outbox.parked.length);
  }

  /** The outbox's current parked and backing-off items (after acks retire some). */
  setOutboxQueues(parkedDigests: ReadonlySet<string>, retrying: number): void {
    this.status.outbox.parked = this.status.outbox.parked.filter((p) => parkedDigests.has(p.digest));
    this.status.outbox.retrying = retrying;
    this.outboxParked.set(this.status.outbox.parked.length);
  }

  setDeviceCount(devices: number): void {
    this.deviceCount.set(devices);
    this.status.devices = devices;
  }

  setLinkState(link: string, state: LinkState): void {
    for (const s of LINK_STATES) this.linkState.set({ link, state: s }, s === state ? 1 : 0);
    this.linkEntry(link).state = state;
  }

  linkBytesSent(link: string, bytes: number): void {
    this.linkBytes.inc({ link }, bytes);
    this.linkEntry(link).bytesSent += bytes;
  }

  setRadioBackendState(backend: string, state: RadioBackendState): void {
    for (const s of RADIO_STATES) this.radioState.set({ backend, state: s }, s === state ? 1 : 0);
    this.radioEntry(backend).state = state;
  }

  setClockSource(source: TimeSource, gpsTime?: string): void {
    for (const s of ['gps', 'ntp', 'host-unsynced'] as const)
      this.clockSourceGauge.set({ source: s }, s === source ? 1 : 0);
    this.status.clock = gpsTime === undefined ? { source } : { source, lastGpsTime: gpsTime };
  }

  private linkEntry(link: string): { state: LinkState; bytesSent: number } {
    this.status.links[link] ??= { state: 'down', bytesSent: 0 };
    return this.status.links[link];
  }

  private radioEntry(backend: string): StatusSnapshot['radio'][string] {
    this.status.radio[backend] ??= { state: 'starting', uplinks: 0 };
    return this.status.radio[backend];
  }

  /** Prometheus text exposition format (version 0.0.4). */
  prometheusText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A deep copy of the live status, safe to serialise. */
  /** Where the pipeline's counters are read from, at every scrape and status snapshot. */
  setPipelineCounters(source: () => Readonly<Record<string, number>>): void {
    this.pipelineSource = source;
  }

  snapshot(): StatusSnapshot {
    const copy = structuredClone(this.status);
    copy.pipeline = { ...this.pipelineSource() };
    copy.uptimeSeconds = Math.max(0, Math.round((this.now() - this.startedAtMs) / 1000));
    return copy;
  }
}
