/**
 * The regional node's front door: every bundle, from any transport, goes
 * through `ingest`. It verifies against registered keys only, checks the
 * per-gateway chain, de-duplicates, stores, and acknowledges by
 * (gateway, sequence). Chain rules for a bundle (g, s, digest d, prev p):
 *   - (g, s) held with digest d            → duplicate: ack again, nothing stored
 *   - (g, s) held with another digest, and p equals the held predecessor's
 *     digest (or both are genesis)         → equivocation: a fork, two successors
 *                                            of one bundle; alert, keep proof, reject
 *   - (g, s) held with another digest, and p does not fit the held chain
 *                                          → replay: the sequence went backwards onto
 *                                            another history (e.g. a gateway restored
 *                                            from an old backup); alert, reject
 *   - s-1 held and p ≠ its digest, or s+1 held and its prev ≠ d
 *                                          → chain alert; reject
 *   - s > head + 1                         → accept; gap alert naming the missing range
 * Every rejection is logged with its reason code.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type VerifiedBundle, verifyBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { ErrorCode, type ErrorCodeName, isMaverickError, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { GatewayRegistry } from './registry.js';
import type { AlertKind, RegionalAlert, RegionalStore, StoredBundle } from './store.js';

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

export class RegionalNode extends EventEmitter<RegionalNodeEvents> {
  private readonly now: () => number;
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly results = { accepted: 0, duplicate: 0, rejected: 0 };

  constructor(private readonly options: RegionalNodeOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger;
  }

  /** Verifies, chain-checks and stores one bundle. Never throws for bad input: a rejection is a result. */
  ingest(bytes: Uint8Array, options: IngestOptions): Promise<IngestResult> {
    // One at a time: chain checks read then write per gateway, so concurrent ingests must not interleave.
    const run = this.queue.then(() => this.ingestOne(bytes, options));
    this.queue = run.catch(() => undefined);
    return run.then((result) => {
      this.results[result.status]++;
      return result;
    });
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
      if (!isMaverickError(err)) throw err;
      this.log.warn({ source, code: err.code, reason: err.codeName, err: err.message }, 'bundle rejected');
      this.emit('rejected', { source, reason: err.codeName, message: err.message });
      return { status: 'rejected', reason: err.codeName, code: err.code, message: err.message, alerts };
    }
  }

  /** Verifies against registered keys; an unknown kid re-reads the registry once (a key added while running). */
  private async verify(bytes: Uint8Array): Promise<VerifiedBundle> {
    const { registry } = this.options;
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
    const prevHash = toHex(bundle.prevHash);
    const ack: Ack = { gatewayId, seq, digest };
    if (seq === 0) throw new Rejection(ErrorCode.BundleSequence, 'sequence numbers start at 1');

    const held = await this.options.store.getBundle(gatewayId, seq);
    const before = seq > 1 ? await this.options.store.getBundle(gatewayId, seq - 1) : undefined;
    const expectedPrev = seq === 1 ? '00'.repeat(32) : before?.digest;
    if (held) {
      if (held.digest === digest) {
        this.log.info({ gatewayId, seq, source }, 'duplicate bundle acknowledged again');
        return { status: 'duplicate', ack };
      }
      const fork = prevHash === held.prevHash || (expectedPrev !== undefined && prevHash === expectedPrev);
      const kind: AlertKind = fork ? 'equivocation' : 'replay';
      const alert = await this.raise(
        kind,
        gatewayId,
        seq,
        fork
          ? `gateway ${gatewayId} signed two different bundles with sequence ${seq}`
          : `gateway ${gatewayId} re-used sequence ${seq} on a different history (sequence went backwards)`,
        {
          heldDigest: held.digest,
          conflictingDigest: digest,
          heldPrevHash: held.prevHash,
          conflictingPrevHash: prevHash,
          // The conflicting signed bytes are the proof; keep them with the alert.
          conflictingCose: Buffer.from(bytes).toString('base64'),
          source,
        },
      );
      alerts.push(alert);
      throw new Rejection(fork ? ErrorCode.RegionalEquivocation : ErrorCode.RegionalReplay, alert.message);
    }

    if (expectedPrev !== undefined && prevHash !== expectedPrev) {
      alerts.push(
        await this.raise(
          'chain',
          gatewayId,
          seq,
          `bundle ${seq} of ${gatewayId} does not link to bundle ${seq - 1}`,
          {
            expectedPrevHash: expectedPrev,
            prevHash,
            digest,
            source,
          },
        ),
      );
      throw new Rejection(ErrorCode.RegionalChain, alerts[0]?.message ?? 'chain mismatch');
    }
    const after = await this.options.store.getBundle(gatewayId, seq + 1);
    if (after && after.prevHash !== digest) {
      alerts.push(
        await this.raise(
          'chain',
          gatewayId,
          seq,
          `bundle ${seq + 1} of ${gatewayId} does not link back to this bundle ${seq}`,
          {
            nextPrevHash: after.prevHash,
            digest,
            source,
          },
        ),
      );
      throw new Rejection(ErrorCode.RegionalChain, alerts[0]?.message ?? 'chain mismatch');
    }

    const head = await this.options.store.headSeq(gatewayId);
    if (seq > head + 1) {
      alerts.push(
        await this.raise(
          'gap',
          gatewayId,
          seq,
          `bundles ${head + 1}..${seq - 1} of ${gatewayId} are missing`,
          {
            missing: [head + 1, seq - 1],
            source,
          },
        ),
      );
    }
    const stored = await this.store(verified, bytes, source, gatewayId);
    this.emit('accepted', stored);
    this.log.info({ gatewayId, seq, uplinks: stored.uplinkCount, source }, 'bundle accepted');
    return { status: 'accepted', ack, alerts };
  }

  private async store(
    verified: VerifiedBundle,
    bytes: Uint8Array,
    source: string,
    gatewayId: string,
  ): Promise<StoredBundle> {
    const { envelope, bundle } = verified;
    const stored: StoredBundle = {
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
      receivedAt: this.now(),
      source,
    };
    const definitions = bundle.plots.flatMap((p) =>
      p.definition
        ? [{ geometryHash: toHex(p.geometryHash), plotId: p.plotId, definition: p.definition }]
        : [],
    );
    await this.options.store.putBundle(stored, bundle.uplinks, definitions);
    return stored;
  }

  private async raise(
    kind: AlertKind,
    gatewayId: string,
    seq: number,
    message: string,
    details: Record<string, unknown>,
  ): Promise<RegionalAlert> {
    const at = this.now();
    const alert: RegionalAlert = {
      id: `${kind}|${gatewayId}|${seq}|${String(details.conflictingDigest ?? details.digest ?? at)}`,
      kind,
      gatewayId,
      seq,
      message,
      details,
      at,
    };
    await this.options.store.putAlert(alert);
    this.log.warn({ kind, gatewayId, seq, details: { ...details, conflictingCose: undefined } }, message);
    this.emit('alert', alert);
    return alert;
  }
}
