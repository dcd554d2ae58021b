/**
 * Where each gateway can be reached, and from where it may speak. PROTOCOL.TXT §5.2: the gateway
 * opens the downlink route with PULL_DATA (possibly through NAT) and keeps it open with more.
 *
 * A forwarder sends PUSH_DATA and PULL_DATA from two sockets (two ports) on one host, so a
 * gateway is bound to the host address it speaks from, not to one port. While that host is alive
 * (heard from within `aliveMs`), datagrams with the gateway's EUI from any other address are
 * foreign: refused, so nobody else on the network can take its downlinks or relay frames under
 * its name. A forwarder restarting on the same host moves the route to its new port at once. A
 * gateway that really moved (DHCP) is taken over only once the old host has gone quiet, and only
 * by a host that sends the gateway's PUSH_DATA (rxpk or stat) — never by a bare PULL_DATA.
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

/** accepted: as before; opened: a new route (or host) for this EUI; foreign: refused. */
export type SourceVerdict = 'accepted' | 'opened' | 'foreign';

interface GatewayState {
  /** The address the gateway speaks from; undefined until its first datagram. */
  host: string | undefined;
  hostSeenMs: number;
  /** Source of the last PULL_DATA; used for downlinks only when it is on `host`. */
  pull: GatewayRoute | undefined;
}

/** A bounded map: the least recently heard gateway goes first. */
export class GatewayRoutes {
  readonly #gateways = new Map<string, GatewayState>();
  /**
   * The most recently heard gateway (last in `#gateways`): hearing it again needs no move. The
   * move (delete, then set) fills the map's table with deleted entries, and every few moves V8
   * builds a new table: per datagram of a one-gateway farm that was ~75 % of what the Semtech UDP
   * thread promoted to its old generation in a 5,000/s burst (heap sampling profile), which grew
   * that thread's heap from 6 to ~15 MB.
   */
  #newest: string | undefined;
  #version = 0;
  #usableCount = 0;
  #countedAt = 0;

  constructor(
    private readonly maxGateways = 10_000,
    /** Three missed keep-alives of lora_pkt_fwd's default 10 s, and a little more. */
    private readonly aliveMs = 35_000,
  ) {}

  /** Would a datagram for `eui` from `address` be refused right now? (Read-only; PUSH_ACK is sent before decoding.) */
  isForeign(eui: string, address: string, nowMs: number): boolean {
    const state = this.#gateways.get(eui.toLowerCase());
    return state !== undefined && this.#foreign(state, address, nowMs);
  }

  /** Records a decoded PUSH_DATA (rxpk or stat) from `address`. */
  push(eui: string, address: string, nowMs: number): { verdict: SourceVerdict; evicted: boolean } {
    const { state, evicted } = this.#state(eui);
    if (this.#foreign(state, address, nowMs)) return { verdict: 'foreign', evicted };
    const moved = state.host !== address;
    if (moved) this.#version++;
    state.host = address;
    state.hostSeenMs = nowMs;
    return { verdict: moved ? 'opened' : 'accepted', evicted };
  }

  /** Records a PULL_DATA. A bare PULL_DATA never moves the gateway to a new host (except the very first). */
  pull(route: GatewayRoute): { verdict: SourceVerdict; evicted: boolean } {
    const { state, evicted } = this.#state(route.gatewayEui);
    if (this.#foreign(state, route.address, route.lastPullMs)) return { verdict: 'foreign', evicted };
    const before = this.#usable(state);
    this.#version++;
    state.pull = { ...route, gatewayEui: route.gatewayEui.toLowerCase() };
    if (state.host === undefined) state.host = route.address;
    if (state.host === route.address) state.hostSeenMs = route.lastPullMs;
    const after = this.#usable(state);
    const changed =
      after !== undefined &&
      (before === undefined || before.address !== after.address || before.port !== after.port);
    return { verdict: changed ? 'opened' : 'accepted', evicted };
  }

  /** Is `address` the host this gateway speaks from? (TX_ACKs from anywhere else are not its.) */
  isHost(eui: string, address: string): boolean {
    return this.#gateways.get(eui.toLowerCase())?.host === address;
  }

  get(gatewayEui: string): GatewayRoute | undefined {
    const state = this.#gateways.get(gatewayEui.toLowerCase());
    return state ? this.#usable(state) : undefined;
  }

  /**
   * Moves whenever the routes list() returns may have changed (a PULL_DATA, a gateway heard from a
   * new host, one added, evicted or cleared), so a reader can skip copying them when it did not.
   * Hearing a known gateway again reorders list() (most recently heard last) without moving it.
   */
  get version(): number {
    return this.#version;
  }

  /** list().length, without copying the routes (counted again only after a change). */
  usableCount(): number {
    if (this.#countedAt !== this.#version) {
      let n = 0;
      for (const state of this.#gateways.values()) if (this.#usable(state)) n++;
      this.#usableCount = n;
      this.#countedAt = this.#version;
    }
    return this.#usableCount;
  }

  list(): GatewayRoute[] {
    const out: GatewayRoute[] = [];
    for (const state of this.#gateways.values()) {
      const route = this.#usable(state);
      if (route) out.push({ ...route });
    }
    return out;
  }

  clear(): void {
    this.#version++;
    this.#gateways.clear();
    this.#newest = undefined;
  }

  #foreign(state: GatewayState, address: string, nowMs: number): boolean {
    return state.host !== undefined && state.host !== address && nowMs - state.hostSeenMs <= this.aliveMs;
  }

  #usable(state: GatewayState): GatewayRoute | undefined {
    return state.pull && state.pull.address === state.host ? state.pull : undefined;
  }

  #state(eui: string): { state: GatewayState; evicted: boolean } {
    const key = eui.toLowerCase();
    const existing = this.#gateways.get(key);
    if (existing) {
      // Most recently heard last, so eviction takes the quietest gateway.
      if (key !== this.#newest) {
        this.#gateways.delete(key);
        this.#gateways.set(key, existing);
        this.#newest = key;
      }
      return { state: existing, evicted: false };
    }
    let evicted = false;
    this.#version++;
    if (this.#gateways.size >= this.maxGateways) {
      const oldest = this.#gateways.keys().next().value;
      if (oldest !== undefined) this.#gateways.delete(oldest);
      evicted = true;
    }
    const state: GatewayState = { host: undefined, hostSeenMs: 0, pull: undefined };
    this.#gateways.set(key, state);
    this.#newest = key;
    return { state, evicted };
  }
}
