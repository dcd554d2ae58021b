/**
 * The gateway's notary: seals unsealed uplinks into a signed, hash-chained
 * bundle on a schedule or when enough have accumulated.
 *
 * Crash safety (one sequence number, one bundle, ever):
 *   1. reserve(): seq N is persisted before signing;
 *   2. the signed COSE bytes for N are persisted (savePending) before the sink
 *      marks anything sealed;
 *   3. sink.commit() stores the bundle, marks its uplinks sealed and enqueues
 *      it in the outbox (atomic on the sink's side, idempotent for a repeat);
 *   4. complete(N) advances the chain head.
 * A crash before 2 re-uses N for a fresh signature (no bytes for N ever left);
 * a crash after 2 re-commits the persisted bytes and never signs N again.
 */
import { bundleDigest, sealBundle, signBundle } from '../../proto/bundle/bundle.js';
import { sourceCounts } from '../../proto/bundle/columnar.js';
import type { BundleClaims, SigningKey } from '../../proto/bundle/cose.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { encodeBundlePayload } from '../../proto/bundle/payload.js';
import { plotDefinitionHash } from '../../proto/bundle/plots.js';
import type {
  PlotDefinition,
  PlotReference,
  Reading,
  TimeSource,
  UplinkRecord,
} from '../../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type { PendingBundle, SequenceStore } from './sequence-store.js';

/** One stored uplink not yet in any bundle, with its decoded readings (fixed-point). */
export interface UnsealedUplink {
  /** The store's id, handed back to the sink to mark sealed. */
  id: string;
  /** 16 hex digits. */
  devEui: string;
  fCnt: number;
  /** The device session (rejoin / counter reset count) it was sent in; absent = 0. */
  session?: number;
  /** Unix ms. */
  receivedAt: number;
  timeSource: TimeSource;
  plotId: string | null;
  readings: Reading[];
}

export interface UplinkSource {
  /** Up to `limit` unsealed uplinks, oldest first. */
  unsealed(limit: number): Promise<UnsealedUplink[]>;
  countUnsealed(): Promise<number>;
}

export interface PlotDirectory {
  /** The registered definition of a plot, or undefined if unknown. */
  definition(plotId: string): Promise<PlotDefinition | undefined>;
}

/** What the sink receives: the exact signed bytes plus what it needs to index them. */
export interface SealedBundle {
  seq: number;
  digest: Uint8Array;
  cose: Uint8Array;
  uplinkIds: string[];
  timeRange: { start: number; end: number };
  uplinks: number;
  timeSources: Record<TimeSource, number>;
}

export interface BundleSink {
  /**
   * Persist the bundle, mark `uplinkIds` sealed and put it in the outbox, atomically.
   * Must be idempotent: after a crash the same (seq, digest, bytes) may be committed again.
   */
  commit(bundle: SealedBundle): Promise<void>;
}

export interface SealerOptions {
  source: UplinkSource;
  sink: BundleSink;
  sequences: SequenceStore;
  plots: PlotDirectory;
  key: SigningKey;
  /** CWT iss: the gateway id. */
  gatewayId: string;
  /** CWT sub: the farm / plot scope. */
  scope: string;
  /** Seal at least this often when anything is unsealed (default 1 h). */
  periodMs?: number;
  /** Seal early once this many uplinks wait; also the most in one bundle (default 5000). */
  maxUplinksPerBundle?: number;
  /** Format 2 only: raw-deflate the telemetry inside the payload (format 3 always carries it deflated). */
  compress?: boolean;
  /**
   * Bundle format to seal (default 3: a signed statement with a Merkle root over salted records,
   * telemetry detached; proto/proof/PROOF.md). 2 is kept for tests of old-format chains.
   */
  format?: 2 | 3;
  now?: () => number;
  logger?: Logger;
  /**
   * Whether the gateway is busy taking in uplinks now. The timer's seals then wait, and a timed
   * run stops between bundles, for at most `maxDeferMs`: a seal holds its uplinks' documents a
   * few times over and takes the event loop for a while, which a burst being stored needs more
   * (POST /seal and sealNow() never wait).
   */
  busy?: () => boolean;
  /** Longest a timed seal waits for `busy` to end (default 10 min). */
  maxDeferMs?: number;
}

function devEuiBytes(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) {
    throw new MaverickError(
      ErrorCode.BundleMalformed,
      `uplink DevEUI ${JSON.stringify(hex)} is not 16 hex digits`,
    );
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export class Sealer {
  private readonly periodMs: number;
  private readonly maxUplinks: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private lastSealAt: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** When the timer's seals started waiting for `busy` to end (undefined = not waiting). */
  private deferredSince: number | undefined;

  constructor(private readonly options: SealerOptions) {
    this.periodMs = options.periodMs ?? 3_600_000;
    this.maxUplinks = options.maxUplinksPerBundle ?? 5000;
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger;
    this.lastSealAt = this.now();
  }

  /** Seals now: first finishes a pending bundle left by a crash, then seals what is unsealed. */
  sealNow(): Promise<SealedBundle[]> {
    return this.run(false);
  }

  private run(yieldToBusy: boolean): Promise<SealedBundle[]> {
    // Serialised: two overlapping seals would race for one sequence number.
    const run = this.running.then(() => this.sealAll(yieldToBusy));
    // Settles to undefined, not to the bundles: a promise kept here resolved to the last seal's
    // array would hold every bundle's signed bytes and uplink ids until the next seal (a heap
    // snapshot of a gateway under a 64 MB heap showed them all retained from `running`).
    this.running = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Checks every `checkEveryMs` whether the period elapsed or the size threshold is reached. */
  start(checkEveryMs = 60_000): void {
    this.stop();
    this.timer = setInterval(() => {
      void this.tick().catch((err: unknown) => this.log.error({ err }, 'sealing failed; will retry'));
    }, checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One scheduler step (exposed so tests drive it with an injected clock). */
  async tick(): Promise<SealedBundle[]> {
    const due = this.now() - this.lastSealAt >= this.periodMs;
    if (!due && (await this.options.source.countUnsealed()) < this.maxUplinks) return [];
    if (this.deferring()) return [];
    return this.run(true);
  }

  /** Whether a timed seal waits now: the gateway is busy and has not kept it waiting too long. */
  private deferring(): boolean {
    if (!this.options.busy?.()) {
      this.deferredSince = undefined;
      return false;
    }
    this.deferredSince ??= this.now();
    return this.now() - this.deferredSince < (this.options.maxDeferMs ?? 600_000);
  }

  private async sealAll(yieldToBusy: boolean): Promise<SealedBundle[]> {
    const sealed: SealedBundle[] = [];
    const state = await this.options.sequences.load();
    if (state.pending) sealed.push(await this.commit(state.pending, 'recovered'));
    // What this run sealed, should the source still list some of it: a set, not a scan of every
    // bundle's ids per uplink (that scan took ~2 minutes of CPU to seal 100,000 waiting uplinks).
    const sealedIds = new Set<string>(sealed.flatMap((b) => b.uplinkIds));
    for (let round = 0; round < 1000; round++) {
      const batch = await this.options.source.unsealed(this.maxUplinks);
      const fresh = batch.filter((u) => !sealedIds.has(u.id));
      if (fresh.length === 0) break;
      const bundle = await this.sealBatch(fresh);
      sealed.push(bundle);
      for (const id of bundle.uplinkIds) sealedIds.add(id);
      if (batch.length < this.maxUplinks) break;
      // The rest waits for a quieter moment (the next tick), as a timed seal would.
      if (yieldToBusy && this.deferring()) break;
    }
    this.lastSealAt = this.now();
    return sealed;
  }

  private async sealBatch(batch: UnsealedUplink[]): Promise<SealedBundle> {
    const { sequences, key } = this.options;
    const state = await sequences.load();
    const seq = await sequences.reserve();
    const uplinks: UplinkRecord[] = batch.map((u) => ({
      devEui: devEuiBytes(u.devEui),
      plotId: u.plotId,
      fCnt: u.fCnt,
      session: u.session ?? 0,
      receivedAt: u.receivedAt,
      timeSource: u.timeSource,
      readings: u.readings,
    }));
    const { plots, carried } = await this.plotReferences(uplinks, state.carriedPlots);
    const timeRange = uplinks.reduce(
      (r, u) => ({ start: Math.min(r.start, u.receivedAt), end: Math.max(r.end, u.receivedAt) }),
      { start: Number.POSITIVE_INFINITY, end: 0 },
    );
    const content = {
      seq,
      prevHash: state.lastDigest,
      timeRange,
      plots,
      uplinks,
      compress: this.options.compress ?? true,
    };
    const claims: BundleClaims = {
      iss: this.options.gatewayId,
      sub: this.options.scope,
      iat: Math.floor(this.now() / 1000),
    };
    const cose =
      (this.options.format ?? 3) === 3
        ? sealBundle(content, key, claims).cose
        : signBundle(encodeBundlePayload({ ...content, version: 2 }), key, claims);
    const pending: PendingBundle = {
      seq,
      cose,
      digest: bundleDigest(cose),
      uplinkIds: batch.map((u) => u.id),
      carriedPlots: carried,
      timeRange,
      uplinks: uplinks.length,
      timeSources: sourceCounts(uplinks),
    };
    await sequences.savePending(pending);
    return this.commit(pending, 'sealed');
  }

  private async plotReferences(
    uplinks: UplinkRecord[],
    alreadyCarried: string[],
  ): Promise<{ plots: PlotReference[]; carried: string[] }> {
    const ids = [...new Set(uplinks.map((u) => u.plotId).filter((p): p is string => p !== null))];
    const plots: PlotReference[] = [];
    const carried: string[] = [];
    for (const plotId of ids) {
      const definition = await this.options.plots.definition(plotId);
      if (!definition) {
        throw new MaverickError(ErrorCode.BundleMalformed, `plot ${plotId} is not registered`, {
          hint: 'register it with `maverick plot add` so its geometry can be sealed',
        });
      }
      const geometryHash = plotDefinitionHash(definition);
      const hashHex = toHex(geometryHash);
      if (alreadyCarried.includes(hashHex)) {
        plots.push({ plotId, geometryHash });
      } else {
        plots.push({ plotId, geometryHash, definition });
        carried.push(hashHex);
      }
    }
    return { plots, carried };
  }

  private async commit(pending: PendingBundle, how: 'sealed' | 'recovered'): Promise<SealedBundle> {
    const bundle: SealedBundle = {
      seq: pending.seq,
      digest: pending.digest,
      cose: pending.cose,
      uplinkIds: pending.uplinkIds,
      timeRange: pending.timeRange,
      uplinks: pending.uplinks,
      timeSources: pending.timeSources,
    };
    await this.options.sink.commit(bundle);
    await this.options.sequences.complete(pending.seq);
    this.log.info(
      { seq: bundle.seq, bytes: bundle.cose.length, uplinks: bundle.uplinks, digest: toHex(bundle.digest) },
      how === 'sealed' ? 'bundle sealed' : 'pending bundle recovered after restart',
    );
    return bundle;
  }
}
