/**
 * Server-sent events for the console: new uplinks, joins and alarms reach
 * every open page without a reload. Back-pressure: each client has a small
 * bounded queue; while its socket will not take more (`write` returned false)
 * events wait there, and when the queue is full the oldest is dropped and the
 * client is told how many it missed (`event: dropped`), so a slow phone on a
 * weak Wi-Fi link costs the gateway a fixed amount of memory, never more.
 */
import type { ServerResponse } from 'node:http';

export interface LiveEvent {
  type: 'up' | 'join' | 'alarm' | 'status';
  data: unknown;
}

export interface LiveOptions {
  /** Events queued per slow client before the oldest are dropped (default 100). */
  maxQueued?: number;
  /** A comment line this often keeps proxies and phones from closing an idle stream (default 25 s). */
  keepAliveMs?: number;
}

class LiveClient {
  private readonly queue: string[] = [];
  private blocked = false;
  dropped = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxQueued: number,
  ) {
    res.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  send(frame: string): void {
    if (this.blocked) {
      if (this.queue.length >= this.maxQueued) {
        this.queue.shift();
        this.dropped++;
      }
      this.queue.push(frame);
      return;
    }
    this.blocked = !this.res.write(frame);
  }

  get queued(): number {
    return this.queue.length;
  }

  private flush(): void {
    if (this.dropped > 0) {
      this.blocked = !this.res.write(`event: dropped\ndata: ${this.dropped}\n\n`);
      this.dropped = 0;
    }
    while (!this.blocked && this.queue.length > 0) {
      this.blocked = !this.res.write(this.queue.shift() as string);
    }
  }
}

export class LiveHub {
  private readonly clients = new Set<LiveClient>();
  private readonly maxQueued: number;
  private readonly keepAlive: NodeJS.Timeout;
  private nextId = 1;

  constructor(options: LiveOptions = {}) {
    this.maxQueued = options.maxQueued ?? 100;
    this.keepAlive = setInterval(() => this.comment('keep-alive'), options.keepAliveMs ?? 25_000);
    this.keepAlive.unref();
  }

  /** Turns a response into an event stream until the client goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const client = new LiveClient(res, this.maxQueued);
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
  }

  publish(event: LiveEvent): void {
    if (this.clients.size === 0) return;
    const frame = `id: ${this.nextId++}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    for (const client of this.clients) client.send(frame);
  }

  /** Queued frames over all clients (a gauge for tests and status). */
  queuedFrames(): number {
    let total = 0;
    for (const client of this.clients) total += client.queued;
    return total;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.clients.clear();
  }

  private comment(text: string): void {
    for (const client of this.clients) client.send(`: ${text}\n\n`);
  }
}
