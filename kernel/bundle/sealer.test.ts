import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../proto/bundle/bundle.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { fixturePlots, MemoryUplinks } from '../../test/fixtures/bundle-memory-sealer.js';
import { DAY_START_MS, simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { type GatewayKey, generateGatewayKey } from '../keys/gateway-key.js';
import { type SealedBundle, Sealer, type SealerOptions } from './sealer.js';
import { FileSequenceStore } from './sequence-store.js';

let dir: string;
let key: GatewayKey;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-sealer-'));
  key = await generateGatewayKey(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sealer(uplinks: MemoryUplinks, extra: Partial<SealerOptions> = {}): Sealer {
  return new Sealer({
    source: uplinks,
    sink: uplinks,
    sequences: new FileSequenceStore(dir),
    plots: fixturePlots,
    key,
    gatewayId: 'gw-test',
    scope: 'farm:demo',
    ...extra,
  });
}

const resolve = (): Uint8Array => key.publicKey;

describe('Sealer', () => {
  it('seals everything unsealed into a chained sequence, geometry carried once', async () => {
    const uplinks = new MemoryUplinks();
    const day = simulatedDay();
    uplinks.add(day.slice(0, 500));
    const s = sealer(uplinks);
    const [first] = await s.sealNow();
    uplinks.add(day.slice(500));
    const [second] = await s.sealNow();
    expect(await s.sealNow()).toEqual([]);
    expect(uplinks.pending.size).toBe(0);

    const v1 = verifyBundle(first!.cose, resolve);
    const v2 = verifyBundle(second!.cose, resolve);
    expect([v1.bundle.seq, v2.bundle.seq]).toEqual([1, 2]);
    expect(toHex(v1.bundle.prevHash)).toBe('00'.repeat(32));
    expect(toHex(v2.bundle.prevHash)).toBe(toHex(v1.digest));
    expect(v1.bundle.uplinks.length + v2.bundle.uplinks.length).toBe(day.length);
    // Each plot's geometry travels exactly once; afterwards only its hash.
    const carried = [...v1.bundle.plots, ...v2.bundle.plots].filter((p) => p.definition).map((p) => p.plotId);
    expect(carried.sort()).toEqual(['plot-north', 'plot-south']);
    expect(v2.bundle.plots.find((p) => p.plotId === 'plot-north')?.definition).toBeUndefined();
    expect(v1.envelope.claims.iss).toBe('gw-test');
  });

  it('keeps nothing of a finished seal: the bundles it returned can be garbage-collected', async () => {
    // A full GC on demand (what --expose-gc gives), so the test can see what is still reachable.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const uplinks = new MemoryUplinks();
    uplinks.add(simulatedDay().slice(0, 300));
    const s = sealer(uplinks);
    let sealed: SealedBundle[] | undefined = await s.sealNow();
    const count = sealed.length;
    const collected = new WeakRef(sealed);
    sealed = undefined;
    uplinks.commits.length = 0; // the memory sink's own record of what it stored
    // A WeakRef target stays alive until the current job ends: let it end before collecting.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(count).toBe(1);
    expect(collected.deref()).toBeUndefined();
    // The sealer still works after its last result is gone.
    uplinks.add(simulatedDay().slice(300, 400));
    expect((await s.sealNow()).map((b) => b.seq)).toEqual([2]);
  });

  it('splits by size and seals early when the threshold is reached; otherwise waits for the period', async () => {
    let now = DAY_START_MS;
    const uplinks = new MemoryUplinks();
    const s = sealer(uplinks, { maxUplinksPerBundle: 300, periodMs: 3_600_000, now: () => now });
    uplinks.add(simulatedDay().slice(0, 100));
    expect(await s.tick()).toEqual([]); // not due, below threshold
    now += 3_600_000;
    expect((await s.tick()).map((b) => b.uplinks)).toEqual([100]);
    uplinks.add(simulatedDay().slice(100, 800));
    const bundles = await s.tick(); // above threshold before the period
    expect(bundles.map((b) => b.uplinks)).toEqual([300, 300, 100]);
    expect(bundles.map((b) => b.seq)).toEqual([2, 3, 4]);
  });

  it('lets timed seals wait while the gateway is busy, at most maxDeferMs; sealNow never waits', async () => {
    let now = DAY_START_MS;
    let busy = true;
    const uplinks = new MemoryUplinks();
    const s = sealer(uplinks, {
      maxUplinksPerBundle: 100,
      now: () => now,
      busy: () => busy,
      maxDeferMs: 600_000,
    });
    uplinks.add(simulatedDay().slice(0, 250));
    expect(await s.tick()).toEqual([]); // over the threshold, but busy
    now += 599_000;
    expect(await s.tick()).toEqual([]);
    busy = false;
    // A burst started after the first bundle: the timed run stops there.
    let calls = 0;
    const s2 = sealer(uplinks, { maxUplinksPerBundle: 100, now: () => now, busy: () => ++calls > 1 });
    expect((await s2.tick()).map((b) => b.uplinks)).toEqual([100]);
    expect((await s.tick()).map((b) => b.uplinks)).toEqual([100, 50]);
    uplinks.add(simulatedDay().slice(250, 400));
    busy = true;
    expect(await s.tick()).toEqual([]);
    now += 600_000; // waited as long as it may: sealed although still busy
    expect((await s.tick()).map((b) => b.uplinks)).toEqual([100, 50]);
    uplinks.add(simulatedDay().slice(400, 450));
    expect((await s.sealNow()).map((b) => b.uplinks)).toEqual([50]);
  });

  it('a crash after signing re-commits the same bytes for that seq and never signs it again', async () => {
    const uplinks = new MemoryUplinks();
    uplinks.add(simulatedDay());
    let seen: Uint8Array | undefined;
    uplinks.beforeCommit = (b) => {
      seen = b.cose;
      throw new Error('power cut');
    };
    await expect(sealer(uplinks).sealNow()).rejects.toThrow('power cut');
    expect(uplinks.pending.size).toBe(simulatedDay().length); // nothing marked sealed
    uplinks.beforeCommit = undefined;
    // A fresh sealer (as after a restart) over the same state file.
    const [recovered, next] = await sealer(uplinks).sealNow();
    expect(recovered?.seq).toBe(1);
    expect(Buffer.compare(recovered!.cose, seen!)).toBe(0);
    expect(next).toBeUndefined();
    expect(uplinks.commits.map((c) => c.seq)).toEqual([1]);
    expect(uplinks.pending.size).toBe(0);
  });

  it('a crash before the signed bytes are durable re-uses the reserved seq (no gap, no second bundle)', async () => {
    const uplinks = new MemoryUplinks();
    uplinks.add(simulatedDay().slice(0, 50));
    const store = new FileSequenceStore(dir);
    expect(await store.reserve()).toBe(1); // then "crash" before savePending
    const [b] = await sealer(uplinks).sealNow();
    expect(b?.seq).toBe(1);
  });

  it('refuses uplinks of an unregistered plot with a clear error, sealing nothing', async () => {
    const uplinks = new MemoryUplinks();
    uplinks.add(
      simulatedDay()
        .slice(0, 5)
        .map((u) => ({ ...u, plotId: 'plot-x' })),
    );
    const err = await sealer(uplinks)
      .sealNow()
      .catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.BundleMalformed)).toBe(true);
    expect(uplinks.commits).toEqual([]);
  });

  it('survives kill -9 of the sealing process between signing and commit', async () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../test/fixtures/bundle-sealer-crash-child.ts'), dir],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.signal).toBe('SIGKILL');
    const state = JSON.parse(await readFile(join(dir, 'sealer-state.json'), 'utf8')) as {
      pending: { seq: number; cose: string } | null;
    };
    expect(state.pending?.seq).toBe(1);
    const uplinks = new MemoryUplinks();
    uplinks.add(simulatedDay());
    const [recovered] = await sealer(uplinks).sealNow();
    expect(recovered?.seq).toBe(1);
    expect(Buffer.from(recovered!.cose).toString('base64')).toBe(state.pending?.cose);
    expect(verifyBundle(recovered!.cose, resolve).bundle.uplinks).toHaveLength(simulatedDay().length);
    expect(uplinks.pending.size).toBe(0);
  });
});
