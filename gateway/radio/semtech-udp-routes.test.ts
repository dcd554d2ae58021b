import { describe, expect, it } from 'vitest';
import { type GatewayRoute, GatewayRoutes } from './semtech-udp-routes.js';

const EUI = 'aa555a0000000001';
const pullFrom = (address: string, port: number, at: number): GatewayRoute => ({
  gatewayEui: EUI,
  address,
  port,
  version: 2,
  lastPullMs: at,
});

describe('GatewayRoutes', () => {
  it('follows a forwarder restarting on the same host to its new port at once', () => {
    const routes = new GatewayRoutes(10, 30_000);
    expect(routes.pull(pullFrom('10.0.0.5', 40000, 0)).verdict).toBe('opened');
    expect(routes.push(EUI, '10.0.0.5', 1000).verdict).toBe('accepted');
    expect(routes.pull(pullFrom('10.0.0.5', 40001, 2000)).verdict).toBe('opened');
    expect(routes.get(EUI)).toMatchObject({ address: '10.0.0.5', port: 40001 });
  });

  it('refuses every datagram from another host while the gateway is alive', () => {
    const routes = new GatewayRoutes(10, 30_000);
    routes.pull(pullFrom('10.0.0.5', 40000, 0));
    expect(routes.pull(pullFrom('10.0.0.66', 5000, 29_000)).verdict).toBe('foreign');
    expect(routes.push(EUI, '10.0.0.66', 29_000).verdict).toBe('foreign');
    expect(routes.isForeign(EUI, '10.0.0.66', 29_000)).toBe(true);
    expect(routes.isHost(EUI, '10.0.0.66')).toBe(false);
    expect(routes.get(EUI)).toMatchObject({ address: '10.0.0.5', port: 40000 });
  });

  it('keeps the gateway alive with its keep-alives', () => {
    const routes = new GatewayRoutes(10, 30_000);
    for (let t = 0; t <= 300_000; t += 10_000) routes.pull(pullFrom('10.0.0.5', 40000, t));
    expect(routes.isForeign(EUI, '10.0.0.66', 300_000 + 25_000)).toBe(true);
  });

  it('moves to a new host only after the old one went quiet, and only on its PUSH_DATA', () => {
    const routes = new GatewayRoutes(10, 30_000);
    routes.pull(pullFrom('10.0.0.5', 40000, 0));
    // Quiet for longer than aliveMs: a bare PULL_DATA from elsewhere is remembered but not used.
    expect(routes.pull(pullFrom('10.0.0.7', 41000, 40_000)).verdict).toBe('accepted');
    expect(routes.get(EUI)).toBeUndefined();
    // The new host's PUSH_DATA (rxpk or stat) makes it the gateway's host; its pull route becomes usable.
    expect(routes.push(EUI, '10.0.0.7', 41_000).verdict).toBe('opened');
    expect(routes.get(EUI)).toMatchObject({ address: '10.0.0.7', port: 41000 });
    // And now the old host is the foreign one.
    expect(routes.push(EUI, '10.0.0.5', 42_000).verdict).toBe('foreign');
  });

  it('stays bounded: the quietest gateway is forgotten first', () => {
    const routes = new GatewayRoutes(2, 30_000);
    routes.pull({ ...pullFrom('10.0.0.1', 1, 0), gatewayEui: '0000000000000001' });
    routes.pull({ ...pullFrom('10.0.0.2', 1, 0), gatewayEui: '0000000000000002' });
    routes.push('0000000000000001', '10.0.0.1', 1);
    expect(routes.pull({ ...pullFrom('10.0.0.3', 1, 2), gatewayEui: '0000000000000003' }).evicted).toBe(true);
    expect(routes.list().map((r) => r.gatewayEui)).toEqual(['0000000000000001', '0000000000000003']);
  });
});
