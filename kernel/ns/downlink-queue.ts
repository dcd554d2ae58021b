/**
 * Per-device queue of application downlinks. Class A devices can only be
 * reached right after they send, so payloads wait here for the next uplink.
 *
 * With a `DownlinkStateStore` the queue survives a restart: `enqueue` resolves
 * only once the device's queue is durable, and every change after it (sent,
 * acknowledged, dropped) is written in order, per device. A confirmed payload
 * stays at the head after it went out, until the device acknowledges it or it
 * has been sent `MAX_CONFIRMED_ATTEMPTS` times (then it is dropped and its
 * `ack` event says not acknowledged).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export interface DownlinkRequest {
  fPort: number;
  confirmed: boolean;
  data: Uint8Array;
  /** The application's id for it (ChirpStack's command `id`); a random UUID when absent. */
  id?: string;
  /** ISO instant after which it is dropped unsent (ChirpStack's `expiresAt`). */
  expiresAt?: string;
}

export interface QueuedDownlink extends DownlinkRequest {
  id: string;
  devEui: string;
  enqueuedAt: string;
  /** Times a gateway took it (confirmed payloads are sent again until acknowledged). */
  attempts?: number;
}

/** Where queues (and the gateways' duty-cycle use) are kept across restarts: kernel/db implements it. */
export interface DownlinkStateStore {
  /** Every device's queue, oldest payload first. */
  loadQueues(): Promise<QueuedDownlink[][]>;
  /** Replaces the device's stored queue (an empty list removes it). */
  saveQueue(devEui: string, items: readonly QueuedDownlink[]): Promise<void>;
  loadDutyCycle(gatewayEui: string): Promise<DutyCycleEntries | undefined>;
  saveDutyCycle(gatewayEui: string, entries: DutyCycleEntries): Promise<void>;
}

/** Airtime used per sub-band index: [time sent (Unix ms), time on air (ms)] pairs. */
export type DutyCycleEntries = Record<string, [number, number][]>;

/** Most payloads a device may have waiting, so a runaway integration cannot fill memory. */
export const MAX_QUEUE_PER_DEVICE = 64;
/** A confirmed payload is sent at most this often without an acknowledgement. */
export const MAX_CONFIRMED_ATTEMPTS = 4;

export interface DownlinkQueueOptions {
  store?: DownlinkStateStore | undefined;
  onWriteError?: (err: unknown, devEui: string) => void;
  onExpired?: (item: QueuedDownlink) => void;
  now?: () => number;
}

export class DownlinkQueue {
  private readonly queues = new Map<string, QueuedDownlink[]>();
  /** Per device, the last write of its queue: writes go out in order. */
  private readonly writes = new Map<string, Promise<void>>();

  private readonly store: DownlinkStateStore | undefined;
  private readonly onWriteError: (err: unknown, devEui: string) => void;
  private readonly onExpired: (item: QueuedDownlink) => void;
  private readonly now: () => number;

  /**
   * `store` keeps the queues across restarts; `onWriteError` hears a change that could not be
   * stored; `onExpired` hears each downlink dropped because its `expiresAt` passed before it
   * could go out.
   */
  constructor(options: DownlinkQueueOptions = {}) {
    this.store = options.store;
    this.onWriteError = options.onWriteError ?? (() => {});
    this.onExpired = options.onExpired ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  /** Loads the queues a previous run left (call once, before the first uplink). */
  async load(): Promise<number> {
    if (!this.store) return 0;
    let count = 0;
    for (const items of await this.store.loadQueues()) {
      const first = items[0];
      if (!first) continue;
      this.queues.set(first.devEui, items);
      count += items.length;
    }
    return count;
  }

  /** Queues a payload; resolves once it is durable (when the queue has a store). */
  async enqueue(devEui: string, request: DownlinkRequest): Promise<QueuedDownlink> {
    if (!Number.isInteger(request.fPort) || request.fPort < 1 || request.fPort > 223) {
      throw new MaverickError(ErrorCode.LorawanDownlink, `fPort must be 1..223, got ${request.fPort}`, {
        hint: 'FPort 0 is for MAC commands and 224..255 are reserved (LoRaWAN 1.0.4 §4.3.2)',
        context: { field: 'fPort', devEui },
      });
    }
    if (!(request.data instanceof Uint8Array) || request.data.length > 242) {
      throw new MaverickError(ErrorCode.LorawanDownlink, 'data must be at most 242 bytes', {
        hint: 'no LoRaWAN data rate carries more; split the payload',
        context: { field: 'data', devEui },
      });
    }
    let queue = this.queues.get(devEui);
    if (!queue) {
      queue = [];
      this.queues.set(devEui, queue);
    }
    if (queue.length >= MAX_QUEUE_PER_DEVICE) {
      throw new MaverickError(
        ErrorCode.LorawanDownlink,
        `downlink queue of ${devEui} is full (${MAX_QUEUE_PER_DEVICE})`,
        {
          hint: 'wait for the device to send so queued downlinks can go out',
          context: { devEui },
        },
      );
    }
    const item: QueuedDownlink = {
      id: request.id ?? randomUUID(),
      ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
      devEui,
      fPort: request.fPort,
      confirmed: request.confirmed,
      data: new Uint8Array(request.data),
      enqueuedAt: new Date().toISOString(),
    };
    queue.push(item);
    try {
      await this.persist(devEui);
    } catch (err) {
      // Not durable, so not accepted: the caller hears it and nothing half-queued stays behind.
      this.remove(devEui, item.id);
      throw err;
    }
    return item;
  }

  /** The next downlink to send; expired ones ahead of it are dropped (and reported) first. */
  peek(devEui: string): QueuedDownlink | undefined {
    let head = this.queues.get(devEui)?.[0];
    while (head?.expiresAt !== undefined && Date.parse(head.expiresAt) <= this.now()) {
      this.remove(devEui, head.id);
      this.onExpired(head);
      head = this.queues.get(devEui)?.[0];
    }
    return head;
  }

  size(devEui: string): number {
    return this.queues.get(devEui)?.length ?? 0;
  }

  /** Notes that a gateway took the payload (confirmed ones stay until acknowledged). */
  markSent(devEui: string, id: string): void {
    const item = this.queues.get(devEui)?.find((q) => q.id === id);
    if (!item) return;
    item.attempts = (item.attempts ?? 0) + 1;
    if (item.confirmed) void this.persist(devEui).catch((err: unknown) => this.onWriteError(err, devEui));
    else this.remove(devEui, id);
  }

  remove(devEui: string, id: string): boolean {
    const queue = this.queues.get(devEui);
    if (!queue) return false;
    const index = queue.findIndex((q) => q.id === id);
    if (index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(devEui);
    void this.persist(devEui).catch((err: unknown) => this.onWriteError(err, devEui));
    return true;
  }

  list(devEui: string): readonly QueuedDownlink[] {
    return this.queues.get(devEui) ?? [];
  }

  clear(devEui: string): void {
    this.queues.delete(devEui);
    void this.persist(devEui).catch((err: unknown) => this.onWriteError(err, devEui));
  }

  /** Resolves once every change so far is written. */
  async idle(): Promise<void> {
    await Promise.all([...this.writes.values()].map((w) => w.catch(() => undefined)));
  }

  private persist(devEui: string): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    const previous = this.writes.get(devEui) ?? Promise.resolve();
    // Each write stores the queue as it is when the write runs: the newest state wins, in order.
    const write = previous
      .catch(() => undefined)
      .then(() => store.saveQueue(devEui, [...(this.queues.get(devEui) ?? [])]));
    this.writes.set(devEui, write);
    void write
      .catch(() => undefined)
      .then(() => {
        if (this.writes.get(devEui) === write) this.writes.delete(devEui);
      });
    return write;
  }
}
