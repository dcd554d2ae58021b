/**
 * The regional node's front door: every bundle, from any transport, goes
 * through `ingest`. It verifies against registered keys only, de-duplicates
 * by digest, keeps every validly signed bundle, and decides the chain
 * verdicts from the set of bundles held (chain-verdicts.ts), so the verdicts
 * and the open alerts are the same whatever order the bundles arrive in:
 *   - a digest already held                → duplicate: ack again, nothing stored
 *   - another bundle with the same sequence → equivocation alert; both disputed
 *   - previous hash matching nothing held at the sequence before, or a held
 *     successor not linking back           → chain alert; both sides disputed
 *   - sequence numbers missing between held ones → a gap alert per missing
 *     range, closed (kept, with the reason) when the range fills
 * A kept bundle is acknowledged as accepted even when disputed: the node holds
 * it, and resending cannot change the verdict. Every rejection is logged with
 * its reason code. Chain work for one gateway runs inside the store's
 * `withGateway`, so several workers may ingest at once. The alerts are opened
 * and closed by chain-alerts.ts.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { decodeStoredBundle, type VerifiedBundle, verifyBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import type { PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import { ErrorCode, type ErrorCodeName, isMaverickError, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { ChainAlerts } from './chain-alerts.js';
import {
  type ChainLink,
  groupBySeq,
  hasBrokenLink,
  verdictsAfterArrival,
  verdictsAround,
} from './chain-verdicts.js';
import type { GatewayRegistry } from './registry.js';
import type { RegionalAlert, RegionalStore, StoredBundle } from './store.js';

export interface Ack {
  gatewayId: string;
  seq: number;
  digest: string;
}

export type IngestResult =
  | { status: 'accepted'; ack: Ack; alerts: RegionalAlert[] }
  | { status: 'duplicate'; ack: Ack }
  | {
      status: 'rejected';
      reason: ErrorCodeName | 'Unknown';
      code: number;
      message: string;
      alerts: RegionalAlert[];
    };

export interface IngestOptions {
  /** Where the bytes came from (file path, MQTT topic, link id): logged and stored. */
  source: string;
}

export interface RegionalNodeOptions {
  registry: GatewayRegistry;
  store: RegionalStore;
  /** Largest bundle accepted (default 1 MiB). */
  maxBundleBytes?: number;
  /** Largest inflated telemetry block (default 16 MiB). */
  maxInflatedBytes?: number;
  now?: () => number;
  logger?: Logger;
}

export interface RegionalNodeEvents {
  alert: [RegionalAlert];
  accepted: [StoredBundle];
  rejected: [{ source: string; reason: string; message: string }];
}

class Rejection extends MaverickError {}

/** A plot definition a bundle carried, as the store keeps it. */
type PlotDefinitionRow = { geometryHash: string; plotId: string; definition: PlotDefinition };

const SUMMARY_EVERY_MS = 60_000;

export class RegionalNode extends EventEmitter<RegionalNodeEvents> {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly results = { accepted: 0, duplicate: 0, rejected: 0 };
  /** The counters when the last summary line was logged, and when. */
  private summarised = { at: Number.NaN, accepted: 0, duplicate: 0, rejected: 0 };
  private readonly chainAlerts: ChainAlerts;

  constructor(private readonly options: RegionalNodeOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger;
    this.chainAlerts = new ChainAlerts(this.now, this.log);
  }

  /** Verifies, chain-checks and stores one bundle. Never throws for bad input: a rejection is a result. */
  ingest(bytes: Uint8Array, options: IngestOptions): Promise<IngestResult> {
    // Concurrent ingests are safe: the store serialises chain work per gateway (withGateway).
    return this.ingestOne(bytes, options).then((result) => {
      this.results[result.status]++;
      this.summariseEveryMinute();
      return result;
    });
  }

  /**
   * One info line a minute with what was taken since the last one, instead of a line per bundle (a
   * regional node takes hundreds a second): the operator's log stays readable, and a silent node shows.
   */
  private summariseEveryMinute(): void {
    const now = this.now();
    const last = this.summarised;
    if (Number.isNaN(last.at)) last.at = now;
    if (now - last.at < SUMMARY_EVERY_MS) return;
    const { accepted, duplicate, rejected } = this.results;
    this.log.info(
      {
        accepted: accepted - last.accepted,
        duplicate: duplicate - last.duplicate,
        rejected: rejected - last.rejected,
        seconds: Math.round((now - last.at) / 1000),
      },
      'bundles taken since the last summary',
    );
    this.summarised = { at: now, accepted, duplicate, rejected };
  }

  /** Ingest outcomes since start: accepted, duplicate (identical retransmission, acked again), rejected. */
  counters(): Readonly<{ accepted: number; duplicate: number; rejected: number }> {
    return { ...this.results };
  }

  async ingestFile(path: string): Promise<IngestResult> {
    const bytes = new Uint8Array(await readFile(path));
    return this.ingest(bytes, { source: `file:${path}` });
  }

  private async ingestOne(bytes: Uint8Array, { source }: IngestOptions): Promise<IngestResult> {
    const alerts: RegionalAlert[] = [];
    try {
      const verified = await this.verify(bytes);
      return await this.accept(verified, bytes, source, alerts);
    } catch (err) {
      // A store failure is not a verdict on the bundle: it propagates, so no ack is sent and the item comes again.
      if (!isMaverickError(err) || err.code === ErrorCode.RegionalStore) throw err;
      this.log.warn({ source, code: err.code, reason: err.codeName, err: err.message }, 'bundle rejected');
      this.emit('rejected', { source, reason: err.codeName, message: err.message });
      return { status: 'rejected', reason: err.codeName, code: err.code, message: err.message, alerts };
    }
  }

  /** Verifies against registered keys; an unknown kid re-reads the registry once (a key added while running). */
  private async verify(bytes: Uint8Array): Promise<VerifiedBundle> {
    const { registry } = this.options;
    await registry.fresh();
    const verifyNow = () =>
      verifyBundle(bytes, (kid) => registry.resolve(kid)?.publicKey, {
        maxBytes: this.options.maxBundleBytes ?? 1024 * 1024,
        maxInflatedBytes: this.options.maxInflatedBytes,
      });
    try {
      return verifyNow();
    } catch (err) {
      if (!isMaverickError(err, ErrorCode.BundleUnknownKey) || !(await registry.refresh())) throw err;
      return verifyNow();
    }
  }

  private async accept(
    verified: VerifiedBundle,
    bytes: Uint8Array,
    source: string,
    alerts: RegionalAlert[],
  ): Promise<IngestResult> {
    const { envelope, bundle } = verified;
    const key = this.options.registry.resolve(envelope.kid);
    const gatewayId = envelope.claims.iss;
    if (!key || key.gatewayId !== gatewayId) {
      throw new Rejection(
        ErrorCode.BundleUnknownKey,
        `key ${toHex(envelope.kid)} is not registered to gateway ${gatewayId}`,
        {
          hint: 'a gateway may only sign as itself; check `maverick regional gateway list`',
        },
      );
    }
    const seq = bundle.seq;
    const digest = toHex(verified.digest);
    const ack: Ack = { gatewayId, seq, digest };
    if (seq === 0) throw new Rejection(ErrorCode.BundleSequence, 'sequence numbers start at 1');

    // Everything the store needs is taken from the decoded bundle now: it is not held while
    // PostgreSQL works (its records are hundreds of objects a bundle, and with an intake window of
    // them in flight, keeping them alive across the wait cost the garbage collector more than
    // their decoding). The full path, rare, reads the records from the verified bytes again.
    const head = this.stored(verified, bytes, source, gatewayId, false);
    const definitions = this.definitions(verified);
    const prevHash = toHex(bundle.prevHash);
    // A store without the one-step path takes the full path at once: its records need no second decoding.
    const uplinks = this.options.store.appendHead ? undefined : bundle.uplinks;
    const appended = await this.appendHead(head, bundle.uplinks, definitions);
    const outcome =
      appended ??
      (await this.options.store.withGateway(gatewayId, async (chain) => {
        const { links: held, below, above } = await chain.around(seq, 2);
        if (held.some((l) => l.digest === digest)) return 'duplicate' as const;
        const window = held.filter((l) => !l.overruled);
        const gaps = this.chainAlerts.gapChanges(chain, gatewayId, seq, window, below, above);
        const arriving: ChainLink = { seq, digest, prevHash, disputed: false };
        const verdicts = verdictsAfterArrival(window, arriving);
        const stored: StoredBundle = {
          ...head,
          receivedAt: this.now(),
          disputed: verdicts.arriving.disputed,
        };
        await chain.putBundle(stored, uplinks ?? decodeStoredBundle(bytes).uplinks, definitions);
        for (const link of verdicts.changed) await chain.setDisputed(link.digest, link.disputed);
        const raised = await this.chainAlerts.reconcileConflicts(
          chain,
          gatewayId,
          [...window, verdicts.arriving],
          arriving,
          bytes,
          source,
        );
        raised.push(...(await gaps()));
        return { stored, raised };
      }));
    if (outcome === 'duplicate') {
      this.log.info({ gatewayId, seq, source }, 'duplicate bundle acknowledged again');
      return { status: 'duplicate', ack };
    }
    alerts.push(...outcome.raised);
    for (const alert of outcome.raised) {
      this.log.warn({ kind: alert.kind, gatewayId, seq: alert.seq, details: alert.details }, alert.message);
      this.emit('alert', alert);
    }
    this.emit('accepted', outcome.stored);
    // Debug, not info: a regional node takes hundreds of bundles a second; the info log carries a
    // summary a minute (summariseEveryMinute) and what needs a person (rejections, alerts).
    this.log.debug(
      { gatewayId, seq, uplinks: outcome.stored.uplinkCount, disputed: outcome.stored.disputed, source },
      'bundle accepted',
    );
    return { status: 'accepted', ack, alerts };
  }

  /**
   * The store's one-step path for the common arrival (the gateway's next
   * bundle on a clean chain; RegionalStore.appendHead), when it has one:
   * there the verdicts change nothing and no alert opens or closes.
   * Undefined when it did not apply: nothing was stored, take the full path.
   */
  private async appendHead(
    stored: StoredBundle,
    uplinks: UplinkRecord[],
    definitions: PlotDefinitionRow[],
  ): Promise<{ stored: StoredBundle; raised: RegionalAlert[] } | undefined> {
    const { store } = this.options;
    if (!store.appendHead) return undefined;
    if (!(await store.appendHead(stored, uplinks, definitions))) return undefined;
    return { stored, raised: [] };
  }

  /**
   * An operator's ruling on a chain conflict: `digest` is not part of the
   * gateway's history. The bundle stays stored (disputed, as proof); every
   * verdict is decided again without it, and the alerts it caused close.
   */
  async overrule(gatewayId: string, digest: string, reason: string): Promise<{ undisputed: number[] }> {
    return this.options.store.withGateway(gatewayId, async (chain) => {
      const target = (await this.options.store.getBundleByDigest(digest)) ?? undefined;
      if (!target || target.gatewayId !== gatewayId) {
        throw new MaverickError(
          ErrorCode.RegionalUnknownGateway,
          `gateway ${gatewayId} has no bundle ${digest}`,
          {
            hint: '`maverick regional alerts` lists the digests in each conflict',
          },
        );
      }
      const { seq } = target;
      await chain.overrule(digest);
      const window = (await chain.linksInRange(Math.max(1, seq - 2), seq + 2)).filter((l) => !l.overruled);
      const changed = verdictsAround(window, seq);
      for (const link of changed) await chain.setDisputed(link.digest, link.disputed);
      const closing = `operator overruled ${digest.slice(0, 16)}: ${reason}`;
      await this.chainAlerts.close(chain, `chain|${gatewayId}|${seq}|${digest}`, closing);
      const groups = groupBySeq(window);
      if ((groups.get(seq)?.length ?? 0) <= 1)
        await this.chainAlerts.close(chain, `equivocation|${gatewayId}|${seq}`, closing);
      for (const next of groups.get(seq + 1) ?? []) {
        if (!hasBrokenLink(next, groups))
          await this.chainAlerts.close(chain, `chain|${gatewayId}|${next.seq}|${next.digest}`, closing);
      }
      this.log.warn({ gatewayId, seq, digest, reason }, 'bundle overruled by the operator');
      return { undisputed: changed.filter((l) => !l.disputed).map((l) => l.seq) };
    });
  }

  private definitions(verified: VerifiedBundle): PlotDefinitionRow[] {
    return verified.bundle.plots.flatMap((p) =>
      p.definition
        ? [{ geometryHash: toHex(p.geometryHash), plotId: p.plotId, definition: p.definition }]
        : [],
    );
  }

  private stored(
    verified: VerifiedBundle,
    bytes: Uint8Array,
    source: string,
    gatewayId: string,
    disputed: boolean,
  ): StoredBundle {
    const { envelope, bundle } = verified;
    return {
      gatewayId,
      seq: bundle.seq,
      digest: toHex(verified.digest),
      prevHash: toHex(bundle.prevHash),
      kid: toHex(envelope.kid),
      cose: bytes.slice(),
      iat: envelope.claims.iat,
      sub: envelope.claims.sub,
      timeStart: bundle.timeRange.start,
      timeEnd: bundle.timeRange.end,
      uplinkCount: bundle.uplinks.length,
      timeSources: bundle.timeSources,
      plots: bundle.plots.map((p) => ({ plotId: p.plotId, geometryHash: toHex(p.geometryHash) })),
      devices: bundle.devices,
      devicesFromCose: true,
      receivedAt: this.now(),
      source,
      disputed,
    };
  }
}
