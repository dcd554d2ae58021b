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
      id: randomUUID(),
      devEui,
      fPort: request.fPort,
      confirmed: request.confirmed,
      data: new Uint8Array(request.data),
      enqueuedAt: new Date().toISOString(),
    };
    queue.push(item);
    return item;
  }

  peek(devEui: string): QueuedDownlink | undefined {
    return this.queues.get(devEui)?.[0];
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
