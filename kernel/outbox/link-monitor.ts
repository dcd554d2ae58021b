/**
 * Knows which links are usable (MQTT connected, modem has signal) and reports
 * every change as an event; the composition root republishes them on the
 * local broker.
 */
import { EventEmitter } from 'node:events';
import type { SyncLink } from './types.js';

export interface LinkStateChange {
  link: string;
  up: boolean;
  at: number;
}

export class LinkMonitor extends EventEmitter<{ change: [LinkStateChange] }> {
  private readonly states = new Map<string, LinkStateChange>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  watch(link: SyncLink): void {
    this.states.set(link.name, { link: link.name, up: link.isUp(), at: this.now() });
    this.unsubscribers.push(link.onState((up) => this.update(link.name, up)));
  }

  private update(link: string, up: boolean): void {
    if (this.states.get(link)?.up === up) return;
    const change = { link, up, at: this.now() };
    this.states.set(link, change);
    this.emit('change', change);
  }

  snapshot(): LinkStateChange[] {
    return [...this.states.values()];
  }

  isUp(link: string): boolean {
    return this.states.get(link)?.up ?? false;
  }

  close(): void {
    for (const off of this.unsubscribers.splice(0)) off();
  }
}
