import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signBundle } from '../proto/bundle/bundle.js';
import { decodeCbor } from '../proto/bundle/cbor-decode.js';
import { type CborMap, encodeCbor, encodeTaggedCbor } from '../proto/bundle/cbor-encode.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import type { Logger } from '../proto/log.js';
import { makeBundle, makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import { type IngestResult, RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';
import type { RegionalAlert } from './store.js';

let dbCounter = 0;
let store: RxdbRegionalStore;
let registry: GatewayRegistry;
let node: RegionalNode;
let warnings: Record<string, unknown>[];
const gw = testGateway('gw-alpha');

function capturingLogger(): Logger {
  const logger: Logger = {
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (obj: Record<string, unknown> | string) => {
      if (typeof obj !== 'string') warnings.push(obj);
    },
    error: () => {},
    fatal: () => {},
    child: () => logger,
  };
  return logger;
}

beforeEach(async () => {
  warnings = [];
  store = await RxdbRegionalStore.open({
    storage: getRxStorageMemory(),
    name: `regional_test_${process.pid}_${dbCounter++}`,
  });
  registry = await GatewayRegistry.open(store);
  await registry.add(gw.id, gw.publicKey, { label: 'test farm' });
  node = new RegionalNode({ registry, store, logger: capturingLogger() });
});
afterEach(async () => {
  await store.close();
});

function expectRejected(result: IngestResult, reason: string): void {
  expect(result.status).toBe('rejected');
  if (result.status === 'rejected') expect(result.reason).toBe(reason);
  expect(warnings.some((w) => w.reason === reason)).toBe(true);
}

describe('RegionalNode: accepting and acknowledging', () => {
  it('accepts a well-chained run, acks by (gateway, sequence), stores the evidence', async () => {
    const chain = makeChain(gw, 3);
    for (const [i, b] of chain.entries()) {
      const r = await node.ingest(b.cose, { source: 'test' });
      expect(r).toEqual({
        status: 'accepted',
        ack: { gatewayId: 'gw-alpha', seq: i + 1, digest: toHex(b.digest) },
        alerts: [],
      });
    }
    const bundles = await store.listBundles('gw-alpha');
    expect(bundles.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(Buffer.compare(bundles[0]!.cose, chain[0]!.cose)).toBe(0);
    expect(await store.headSeq('gw-alpha')).toBe(3);
    const evidence = await store.evidenceForPlot({
      plotId: 'plot-north',
      from: 0,
      to: Number.MAX_SAFE_INTEGER,
    });
    expect(evidence.length).toBe(bundles.reduce((n, b) => n + b.uplinkCount, 0));
    expect(evidence[0]?.uplink.readings.length).toBe(5);
    expect(await store.getPlotDefinition(bundles[0]!.plots[0]!.geometryHash)).toMatchObject({
      plotId: 'plot-north',
    });
  });

  it('treats an identical retransmission as a duplicate and acks it again, storing nothing twice', async () => {
    const [b1] = makeChain(gw, 1);
    await node.ingest(b1!.cose, { source: 'mqtt' });
    const again = await node.ingest(b1!.cose, { source: 'file' });
    expect(again).toEqual({
      status: 'duplicate',
      ack: { gatewayId: 'gw-alpha', seq: 1, digest: toHex(b1!.digest) },
    });
    expect(await store.listBundles()).toHaveLength(1);
    expect(await store.listAlerts()).toEqual([]);
  });

  it('ingests from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maverick-intake-'));
    try {
      const [b1] = makeChain(gw, 1);
      await writeFile(join(dir, 'b.cose'), b1!.cose);
      expect((await node.ingestFile(join(dir, 'b.cose'))).status).toBe('accepted');
      expect((await store.listBundles())[0]?.source).toBe(`file:${join(dir, 'b.cose')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const hex = (b: { digest: Uint8Array }) => toHex(b.digest);

async function verdicts(): Promise<[number, string, boolean][]> {
  return (await store.listBundles('gw-alpha')).map((b) => [b.seq, b.digest, b.disputed]);
}

describe('RegionalNode: chain checks', () => {
  it('opens a gap alert per missing range and closes (keeps) it as the missing bundles arrive', async () => {
    const chain = makeChain(gw, 5);
    const alerts: RegionalAlert[] = [];
    node.on('alert', (a) => alerts.push(a));
    await node.ingest(chain[0]!.cose, { source: 't' });
    const r = await node.ingest(chain[4]!.cose, { source: 't' });
    expect(r.status).toBe('accepted');
    expect(alerts.map((a) => [a.kind, a.details.missing])).toEqual([['gap', [2, 4]]]);
    await node.ingest(chain[2]!.cose, { source: 't' });
    expect((await store.listAlerts('gw-alpha')).map((a) => a.details.missing)).toEqual([
      [2, 2],
      [4, 4],
    ]);
    for (const b of [chain[1], chain[3]]) {
      expect(await node.ingest(b!.cose, { source: 't' })).toMatchObject({ status: 'accepted', alerts: [] });
    }
    expect((await store.listBundles()).map((b) => [b.seq, b.disputed])).toEqual(
      [1, 2, 3, 4, 5].map((s) => [s, false]),
    );
    expect(await store.listAlerts('gw-alpha')).toEqual([]);
    const closed = await store.listAlerts('gw-alpha', { includeClosed: true });
    expect(closed.map((a) => [a.details.missing, a.closedReason])).toEqual([
      [[2, 4], 'bundle 3 arrived'],
      [[2, 2], 'bundle 2 arrived'],
      [[4, 4], 'bundle 4 arrived'],
    ]);
  });

  it('equivocation: two bundles with one sequence number are both kept, both disputed, with the proof', async () => {
    const chain = makeChain(gw, 2);
    await node.ingest(chain[0]!.cose, { source: 't' });
    await node.ingest(chain[1]!.cose, { source: 't' });
    const forked = makeBundle(gw, 2, chain[0]!.digest, { variant: 7 });
    const r = await node.ingest(forked.cose, { source: 't' });
    expect(r).toMatchObject({ status: 'accepted', ack: { seq: 2, digest: hex(forked) } });
    const [alert] = await store.listAlerts();
    expect(alert).toMatchObject({ kind: 'equivocation', seq: 2 });
    expect(alert?.details.digests).toEqual([hex(chain[1]!), hex(forked)].sort());
    expect(alert?.details.conflictingCose).toBe(Buffer.from(forked.cose).toString('base64'));
    expect(warnings.some((w) => w.kind === 'equivocation')).toBe(true);
    expect(await verdicts()).toEqual(
      [
        [1, hex(chain[0]!), false],
        [2, hex(chain[1]!), true],
        [2, hex(forked), true],
      ].sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1]))),
    );
  });

  it('a sequence number re-used on another history is an equivocation, and its broken link disputes the predecessor too', async () => {
    const chain = makeChain(gw, 3);
    for (const b of chain) await node.ingest(b.cose, { source: 't' });
    // The gateway was restored from an old backup and re-made its history: a different 1', then 2'.
    const other1 = makeBundle(gw, 1, GENESIS_PREV_HASH, { variant: 3 });
    const replayed2 = makeBundle(gw, 2, other1.digest, { variant: 3 });
    expect((await node.ingest(replayed2.cose, { source: 't' })).status).toBe('accepted');
    expect((await store.listAlerts()).map((a) => a.kind).sort()).toEqual(['chain', 'equivocation']);
    expect((await store.listBundles()).map((b) => [b.seq, b.disputed])).toEqual([
      [1, true],
      ...[
        [2, true],
        [2, true],
      ],
      [3, false],
    ]);
  });

  it('a bundle that does not link to its predecessor raises a chain alert and disputes both', async () => {
    const [b1] = makeChain(gw, 1);
    await node.ingest(b1!.cose, { source: 't' });
    const wrongPrev = makeBundle(gw, 2, new Uint8Array(32).fill(9));
    expect((await node.ingest(wrongPrev.cose, { source: 't' })).status).toBe('accepted');
    expect((await store.listAlerts()).map((a) => a.kind)).toEqual(['chain']);
    expect((await store.listBundles()).map((b) => b.disputed)).toEqual([true, true]);
  });

  it('the forged-successor attack: a wrong-link 5 arriving before 4 does not cost the real chain its later bundles', async () => {
    const chain = makeChain(gw, 6);
    const forged5 = makeBundle(gw, 5, new Uint8Array(32).fill(1), { variant: 9 });
    for (const b of [chain[0], chain[1], chain[2], forged5, chain[3], chain[4], chain[5]]) {
      expect((await node.ingest(b!.cose, { source: 't' })).status).toBe('accepted');
    }
    const disputed = (await store.listBundles()).filter((b) => b.disputed).map((b) => [b.seq, b.digest]);
    expect(disputed).toEqual(
      [
        [4, hex(chain[3]!)],
        [5, hex(chain[4]!)],
        [5, hex(forged5)],
      ].sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1]))),
    );
    expect((await store.listAlerts()).map((a) => [a.kind, a.seq])).toEqual([
      ['chain', 5],
      ['equivocation', 5],
    ]);
  });
});

describe('RegionalNode: rejections with a logged reason', () => {
  it('unknown key', async () => {
    const stranger = testGateway('gw-stranger');
    expectRejected(await node.ingest(makeChain(stranger, 1)[0]!.cose, { source: 't' }), 'BundleUnknownKey');
  });

  it('a registered key signing as another gateway', async () => {
    await registry.add('gw-beta', testGateway('gw-beta').publicKey);
    const impostor = makeBundle(gw, 1, GENESIS_PREV_HASH, { iss: 'gw-beta' });
    expectRejected(await node.ingest(impostor.cose, { source: 't' }), 'BundleUnknownKey');
  });

  it('bad signature', async () => {
    const cose = makeChain(gw, 1)[0]!.cose.slice();
    cose[cose.length - 1] = (cose[cose.length - 1] as number) ^ 1;
    expectRejected(await node.ingest(cose, { source: 't' }), 'BundleBadSignature');
  });

  it('malformed CBOR', async () => {
    expectRejected(await node.ingest(Uint8Array.of(0xd2, 0x84, 0x41), { source: 't' }), 'BundleMalformed');
  });

  it('non-canonical encoding (validly signed)', async () => {
    const good = decodeCbor(makeChain(gw, 1)[0]!.cose, { topLevelTag: 18 }) as [
      Uint8Array,
      CborMap,
      Uint8Array,
      Uint8Array,
    ];
    const payload = good[2];
    const nonCanonical = Uint8Array.of(payload[0] as number, 0x00, 0x18, 0x01, ...payload.slice(3));
    const cose = signBundle(nonCanonical, gw, { iss: gw.id, sub: 'farm:test', iat: 1 });
    expectRejected(await node.ingest(cose, { source: 't' }), 'BundleNonCanonical');
  });

  it('oversize', async () => {
    const small = new RegionalNode({ registry, store, maxBundleBytes: 64, logger: capturingLogger() });
    expectRejected(await small.ingest(makeChain(gw, 1)[0]!.cose, { source: 't' }), 'BundleOversize');
  });

  it('decompression bomb (validly signed, format 2)', async () => {
    const good = decodeCbor(makeBundle(gw, 1, GENESIS_PREV_HASH, { format: 2 }).cose, {
      topLevelTag: 18,
    }) as [Uint8Array, CborMap, Uint8Array, Uint8Array];
    const map = decodeCbor(good[2]) as CborMap;
    map.set(7, new Uint8Array(deflateRawSync(new Uint8Array(32 * 1024 * 1024))));
    const cose = signBundle(encodeCbor(map), gw, { iss: gw.id, sub: 'farm:test', iat: 1 });
    expectRejected(await node.ingest(cose, { source: 't' }), 'BundleDecompressionBomb');
  });

  it('decompression bomb in place of format 3 telemetry, and a statement without its telemetry', async () => {
    const [p, , payload, sig] = decodeCbor(makeChain(gw, 1)[0]!.cose, { topLevelTag: 18 }) as [
      Uint8Array,
      CborMap,
      Uint8Array,
      Uint8Array,
    ];
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(32 * 1024 * 1024)));
    const withBomb = encodeTaggedCbor(18, [p, new Map([[-65537, bomb]]), payload, sig]);
    expectRejected(await node.ingest(withBomb, { source: 't' }), 'BundleDecompressionBomb');
    const statementOnly = encodeTaggedCbor(18, [p, new Map(), payload, sig]);
    expectRejected(await node.ingest(statementOnly, { source: 't' }), 'BundleMalformed');
  });
});

describe('GatewayRegistry', () => {
  it('persists keys in the store, refuses a key already registered to another gateway, removes', async () => {
    const reopened = await GatewayRegistry.open(store);
    expect(reopened.list().map((k) => [k.gatewayId, k.kid, k.label])).toEqual([
      ['gw-alpha', toHex(gw.kid), 'test farm'],
    ]);
    await expect(reopened.add('gw-other', gw.publicKey)).rejects.toThrow(/already registered/);
    expect(await reopened.remove(toHex(gw.kid))).toBe(true);
    expect((await GatewayRegistry.open(store)).list()).toEqual([]);
    expect(reopened.resolve(gw.kid)).toBeUndefined();
  });
});

describe('the info log at regional scale', () => {
  it('says what was taken once a minute, not once a bundle', async () => {
    const infos: { fields: Record<string, unknown>; msg: string }[] = [];
    const logger: Logger = {
      ...capturingLogger(),
      info: (fields: Record<string, unknown> | string, msg?: string) => {
        if (typeof fields !== 'string') infos.push({ fields, msg: msg ?? '' });
      },
    };
    let now = 1_000_000;
    const quiet = new RegionalNode({ registry, store, logger, now: () => now });
    const [first, second, third] = makeChain(gw, 3);
    expect((await quiet.ingest(first!.cose, { source: 'test' })).status).toBe('accepted');
    now += 30_000;
    expect((await quiet.ingest(second!.cose, { source: 'test' })).status).toBe('accepted');
    expect((await quiet.ingest(second!.cose, { source: 'test' })).status).toBe('duplicate');
    const summaries = () => infos.filter((i) => i.msg === 'bundles taken since the last summary');
    expect(summaries()).toEqual([]);
    now += 31_000;
    expect((await quiet.ingest(third!.cose, { source: 'test' })).status).toBe('accepted');
    expect(summaries().map((s) => s.fields)).toEqual([
      { accepted: 3, duplicate: 1, rejected: 0, seconds: 61 },
    ]);
    expect(infos.some((i) => i.msg === 'bundle accepted')).toBe(false);
  });
});
