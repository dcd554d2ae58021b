/**
 * Per-device queue of application downlinks. Class A devices can only be
 * reached right after they send, so payloads wait here for the next uplink.
 * Kept in memory: a restart loses queued (never sent) payloads, which the
 * application sees because no txack/ack event ever arrives for their ids.
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
}

/** Most payloads a device may have waiting, so a runaway integration cannot fill memory. */
export const MAX_QUEUE_PER_DEVICE = 64;

export class DownlinkQueue {
  private readonly queues = new Map<string, QueuedDownlink[]>();

  /** `onExpired` hears each downlink dropped because its `expiresAt` passed before it could go out. */
  constructor(
    private readonly onExpired: (item: QueuedDownlink) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  enqueue(devEui: string, request: DownlinkRequest): QueuedDownlink {
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

  remove(devEui: string, id: string): boolean {
    const queue = this.queues.get(devEui);
    if (!queue) return false;
    const index = queue.findIndex((q) => q.id === id);
    if (index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(devEui);
    return true;
  }

  list(devEui: string): readonly QueuedDownlink[] {
    return this.queues.get(devEui) ?? [];
  }

  clear(devEui: string): void {
    this.queues.delete(devEui);
  }
}
