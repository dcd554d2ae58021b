import fc from 'fast-check';
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

/** The routes as a set (hearing a gateway again reorders list(), which the version does not follow). */
const sortedJson = (list: GatewayRoute[]) =>
  JSON.stringify([...list].sort((a, b) => a.gatewayEui.localeCompare(b.gatewayEui)));

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

  it('forgets the least recently heard gateway, whatever the order they are heard in (against a model)', () => {
    const eui = (n: number) => `00000000000000${n.toString(16).padStart(2, '0')}`;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ gateway: fc.integer({ min: 0, max: 6 }), pull: fc.boolean() }), {
          maxLength: 60,
        }),
        (capacity, heard) => {
          const routes = new GatewayRoutes(capacity, 30_000);
          // The model: most recently heard last, at most `capacity`.
          let model: string[] = [];
          for (const [at, { gateway, pull }] of heard.entries()) {
            const listBefore = sortedJson(routes.list());
            const versionBefore = routes.version;
            const id = eui(gateway);
            // Each gateway speaks from its own host, so none is ever refused as foreign.
            const address = `10.0.0.${gateway}`;
            if (pull) routes.pull({ ...pullFrom(address, 1700, at), gatewayEui: id });
            else routes.push(id, address, at);
            model = [...model.filter((m) => m !== id), id].slice(-capacity);
            // Only gateways with a usable route are listed: those that sent a PULL_DATA.
            const listed = routes.list().map((r) => r.gatewayEui);
            expect(listed.every((g) => model.includes(g))).toBe(true);
            expect(listed).toEqual(model.filter((m) => listed.includes(m)));
            // A reader that skips copying the routes while the version stays put misses nothing.
            if (sortedJson(routes.list()) !== listBefore) expect(routes.version).not.toBe(versionBefore);
            expect(routes.usableCount()).toBe(listed.length);
          }
          // Every gateway the model keeps is still known: hearing it from another host is refused.
          for (const id of model) {
            expect(routes.isHost(id, `10.0.0.${Number.parseInt(id.slice(-2), 16)}`)).toBe(true);
          }
        },
      ),
    );
  });
});
