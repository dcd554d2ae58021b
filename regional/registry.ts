/**
 * The gateways this regional node trusts: their Ed25519 public keys, by kid.
 * Only registered keys in use verify what arrives (`maverick regional gateway
 * add`); a removed key (`… gateway remove`: rotated out, lost, stolen) is kept
 * with the time it was removed, so what it signed before stays verifiable
 * (`resolveStored`) and evidence packs name it as rotated out.
 * Persisted in the RegionalStore; held in memory for synchronous lookups
 * during verification.
 */
import { keyIdOf, toHex } from '../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { GatewayKeyRecord, RegionalStore } from './store.js';

export interface RegistryOptions {
  /** Re-read the store at most this often when asked for a key it does not know (default 1 s). */
  minRefreshMs?: number;
  /**
   * Re-read the store when the keys held are older than this (default 15 s), so a key removed by
   * `maverick regional gateway remove` in another process stops verifying without a restart.
   */
  maxAgeMs?: number;
  now?: () => number;
}

export class GatewayRegistry {
  private byKid = new Map<string, GatewayKeyRecord>();
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private reloading: Promise<void> | undefined;
  private readonly minRefreshMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly store: RegionalStore,
    options: RegistryOptions,
  ) {
    this.minRefreshMs = options.minRefreshMs ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  static async open(store: RegionalStore, options: RegistryOptions = {}): Promise<GatewayRegistry> {
    const registry = new GatewayRegistry(store, options);
    await registry.reload();
    return registry;
  }

  /**
   * Re-reads the registered keys from the store, so a key added by
   * `maverick regional gateway add` while the node runs is trusted without a
   * restart. Rate-limited (a flood of unknown kids costs one read per
   * `minRefreshMs`); true when it read.
   */
  async refresh(): Promise<boolean> {
    if (this.now() - this.lastRefresh < this.minRefreshMs) return false;
    await this.reload();
    return true;
  }

  /**
   * Re-reads the keys when what is held is older than `maxAgeMs`: called
   * before each item is verified, so a removal made elsewhere (the CLI,
   * another worker) takes effect within that time. Concurrent callers share one read.
   */
  async fresh(): Promise<void> {
    if (this.now() - this.lastRefresh < this.maxAgeMs) return;
    await this.reload();
  }

  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        this.lastRefresh = this.now();
        const next = new Map<string, GatewayKeyRecord>();
        for (const record of await this.store.listGatewayKeys()) next.set(record.kid, record);
        this.byKid = next;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Registers a gateway public key; the kid is derived from the key, never taken on trust. */
  async add(
    gatewayId: string,
    publicKey: Uint8Array,
    options: { label?: string; now?: number } = {},
  ): Promise<GatewayKeyRecord> {
    if (!/^[\x21-\x7e]{1,128}$/.test(gatewayId)) {
      throw new MaverickError(
        ErrorCode.ConfigInvalid,
        `gateway id ${JSON.stringify(gatewayId)} must be 1-128 printable ASCII characters`,
      );
    }
    if (publicKey.length !== 32) {
      throw new MaverickError(
        ErrorCode.KeyInvalid,
        `an Ed25519 public key is 32 bytes, got ${publicKey.length}`,
      );
    }
    const kid = toHex(keyIdOf(publicKey));
    const existing = this.byKid.get(kid);
    if (existing && existing.gatewayId !== gatewayId) {
      throw new MaverickError(
        ErrorCode.KeyExists,
        `key ${kid} is already registered to gateway ${existing.gatewayId}${existing.removedAt === undefined ? '' : ' (removed since)'}`,
        { hint: 'a key belongs to one gateway for good: give this gateway a new key (`maverick keys`)' },
      );
    }
    const record: GatewayKeyRecord = {
      gatewayId,
      kid,
      publicKey: publicKey.slice(),
      ...(options.label ? { label: options.label } : {}),
      addedAt: options.now ?? Date.now(),
    };
    await this.store.putGatewayKey(record);
    this.byKid.set(kid, record);
    return record;
  }

  /**
   * Stops trusting a key for anything new; it is kept, marked removed, so
   * what it signed before stays verifiable. False when no key in use has this kid.
   */
  async remove(kidHex: string, options: { now?: number } = {}): Promise<boolean> {
    const at = options.now ?? Date.now();
    const removed = await this.store.removeGatewayKey(kidHex, at);
    const record = this.byKid.get(kidHex);
    if (removed && record) this.byKid.set(kidHex, { ...record, removedAt: at });
    return removed;
  }

  /** The keys in use, or with `includeRemoved` every key ever registered. */
  list(options: { includeRemoved?: boolean } = {}): GatewayKeyRecord[] {
    return [...this.byKid.values()]
      .filter((k) => options.includeRemoved || k.removedAt === undefined)
      .sort((a, b) => a.gatewayId.localeCompare(b.gatewayId) || a.addedAt - b.addedAt);
  }

  /** A key in use: what verifies a bundle, commitment or statement arriving now. */
  resolve(kid: Uint8Array): GatewayKeyRecord | undefined {
    const record = this.byKid.get(toHex(kid));
    return record?.removedAt === undefined ? record : undefined;
  }

  /**
   * A key that is or was registered: what re-verifies something the node
   * already accepted (exports, evidence packs). Intake accepts only keys in
   * use, so a stored item signed by a removed key was taken while it was.
   */
  resolveStored(kid: Uint8Array): GatewayKeyRecord | undefined {
    return this.byKid.get(toHex(kid));
  }
}
