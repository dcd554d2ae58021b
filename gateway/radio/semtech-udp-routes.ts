/**
 * Where each gateway can be reached: the source address of its last PULL_DATA (PROTOCOL.TXT §5.2:
 * the gateway opens the downlink route, possibly through NAT, and keeps it open with PULL_DATA).
 */
import type { ProtocolVersion } from '../../proto/semtech-udp/index.js';

export interface GatewayRoute {
  gatewayEui: string;
  address: string;
  port: number;
  /** Version the forwarder spoke in its PULL_DATA; we answer in the same one. */
  version: ProtocolVersion;
  lastPullMs: number;
}

/** A bounded map: spoofed EUIs cannot grow it without limit; the least recently pulled route goes first. */
export class GatewayRoutes {
  readonly #routes = new Map<string, GatewayRoute>();

  constructor(private readonly maxGateways = 10_000) {}

  /** Records a PULL_DATA; returns whether the gateway is new or changed address, and whether one was evicted. */
  update(route: GatewayRoute): { changed: boolean; evicted: boolean } {
    const key = route.gatewayEui.toLowerCase();
    const previous = this.#routes.get(key);
    this.#routes.delete(key);
    let evicted = false;
    if (this.#routes.size >= this.maxGateways) {
      const oldest = this.#routes.keys().next().value;
      if (oldest !== undefined) this.#routes.delete(oldest);
      evicted = true;
    }
    this.#routes.set(key, { ...route, gatewayEui: key });
    const changed = !previous || previous.address !== route.address || previous.port !== route.port;
    return { changed, evicted };
  }

  get(gatewayEui: string): GatewayRoute | undefined {
    return this.#routes.get(gatewayEui.toLowerCase());
  }

  list(): GatewayRoute[] {
    return [...this.#routes.values()].map((r) => ({ ...r }));
  }

  clear(): void {
    this.#routes.clear();
  }
}
