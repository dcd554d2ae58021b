/**
 * The seam between the regional node and its storage. The embedded default
 * is RxDB (rxdb-store.ts) on whatever RxStorage it is given: SQLite in
 * production, memory in unit tests. PostgreSQL (pg-store.ts) serves a region
 * with many workers. Both pass the same contract suite (store-contract.ts).
 *
 * A bundle is identified by its digest: a gateway that equivocates has two
 * bundles with one sequence number, and both are kept. Everything a chain
 * check reads and writes for one gateway happens inside `withGateway`, which
 * a store runs exclusively per gateway (a transaction under a per-gateway
 * lock in PostgreSQL), so several workers never interleave on one chain.
 */

import type { DeviceSummary, PlotDefinition, TimeSource, UplinkRecord } from '../proto/bundle/types.js';
import type { ChainLink } from './chain-verdicts.js';
import type { LinkStateStore } from './link-state.js';

/** A registered gateway public key. A gateway may have several (rotation). */
export interface GatewayKeyRecord {
  gatewayId: string;
  /** hex of the 8-byte kid. */
  kid: string;
  /** 32 bytes. */
  publicKey: Uint8Array;
  label?: string;
  addedAt: number;
  /**
   * When the key was removed (Unix ms): from then on it verifies nothing new,
   * while what it signed before stays verifiable (evidence packs carry it as
   * "rotated out"). Absent while the key is in use.
   */
  removedAt?: number;
}

/** One accepted bundle: the exact signed bytes (re-verifiable for years) and its decoded summary. */
export interface StoredBundle {
  gatewayId: string;
  seq: number;
  /** hex SHA-256 of the COSE bytes. */
  digest: string;
  prevHash: string;
  kid: string;
  cose: Uint8Array;
  iat: number;
  sub: string;
  timeStart: number;
  timeEnd: number;
  uplinkCount: number;
  timeSources: Record<TimeSource, number>;
  plots: { plotId: string; geometryHash: string }[];
  devices: DeviceSummary[];
  /**
   * `devices` is exactly what `cose`'s signed payload decodes to (the intake took it from the
   * verified bundle), so a store may keep only the bytes and decode the summaries when read.
   */
  devicesFromCose?: true;
  receivedAt: number;
  source: string;
  /** Part of a chain conflict (chain-verdicts.ts): kept as proof, not used as evidence. */
  disputed: boolean;
  /** An operator ruled it out of its chain (`maverick regional overrule`): kept as proof, never evidence. */
  overruled?: boolean;
}

/** 'replay' is only found in alerts written by earlier versions (now an equivocation). */
export type AlertKind = 'gap' | 'equivocation' | 'replay' | 'chain';

export interface RegionalAlert {
  id: string;
  kind: AlertKind;
  gatewayId: string;
  seq: number;
  message: string;
  /** e.g. { missing: [from, to] } or { heldDigest, conflictingDigest, conflictingCose (base64) }. */
  details: Record<string, unknown>;
  at: number;
  /** Set when the cause went away (e.g. the missing bundles arrived); closed alerts are kept. */
  closedAt?: number;
  closedReason?: string;
}

/** A verified daily commitment (proto/bundle/commitment.ts) as received. */
export interface StoredCommitment {
  gatewayId: string;
  /** Days since 1970-01-01 UTC. */
  day: number;
  seqFirst: number;
  seqLast: number;
  /** hex SHA-256 over the day's bundle digests in sequence order. */
  digest: string;
  bundles: number;
  uplinks: number;
  cose: Uint8Array;
  receivedAt: number;
  source: string;
}

/** A verified period statement (proto/proof/period.ts) a gateway sent: the evidence packs cite it. */
export interface StoredPeriodStatement {
  gatewayId: string;
  /** UTC day numbers, both inclusive, as signed. */
  fromDay: number;
  toDay: number;
  /** hex SHA-256 of `cose`: a statement is held once by this digest. */
  digest: string;
  cose: Uint8Array;
  receivedAt: number;
  source: string;
}

export interface EvidenceQuery {
  plotId: string;
  /** Unix ms, inclusive. */
  from: number;
  to: number;
}

/** linksInRange and neighbours of one sequence number together. */
export interface ChainWindow {
  links: ChainLink[];
  below: number;
  above: number | undefined;
}

/** One gateway's chain, held exclusively while a `withGateway` callback runs. */
export interface GatewayChain {
  /** Chain facts of every held bundle with from ≤ seq ≤ to, overruled ones included (flagged). */
  linksInRange(from: number, to: number): Promise<ChainLink[]>;
  /** The nearest held sequence numbers strictly below (0 when none) and above `seq`. */
  neighbours(seq: number): Promise<{ below: number; above: number | undefined }>;
  /**
   * What an arrival at `seq` reads, in one go (one round trip on PostgreSQL):
   * the links with max(1, seq - radius) ≤ seq' ≤ seq + radius and the neighbours of `seq`.
   */
  around(seq: number, radius: number): Promise<ChainWindow>;
  /**
   * Stores the bundle with its decoded uplinks (those its `cose` carries: an
   * engine may index them and read them back from the COSE bytes) and any
   * plot definitions it carried.
   */
  putBundle(
    bundle: StoredBundle,
    uplinks: UplinkRecord[],
    plotDefinitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<void>;
  setDisputed(digest: string, disputed: boolean): Promise<void>;
  /** Rules a bundle out of the chain for good (it stays stored, disputed, as proof). */
  overrule(digest: string): Promise<void>;
  getAlert(id: string): Promise<RegionalAlert | undefined>;
  putAlert(alert: RegionalAlert): Promise<void>;
}

export interface PlotEvidence {
  gatewayId: string;
  seq: number;
  digest: string;
  uplink: UplinkRecord;
}

export interface RegionalStore {
  /** Satellite fragment reassembly state, shared by every worker (link-state.ts). */
  readonly linkState: LinkStateStore;

  putGatewayKey(record: GatewayKeyRecord): Promise<void>;
  /** Marks a key removed at `at` (kept, see GatewayKeyRecord.removedAt); false when no key in use has this kid. */
  removeGatewayKey(kid: string, at: number): Promise<boolean>;
  listGatewayKeys(): Promise<GatewayKeyRecord[]>;

  /**
   * Runs `fn` with the gateway's chain held exclusively, atomically where the
   * engine can (PostgreSQL: one transaction; a throw rolls everything back).
   */
  withGateway<T>(gatewayId: string, fn: (chain: GatewayChain) => Promise<T>): Promise<T>;
  /**
   * Optional fast path for the common arrival, in one step (one statement on
   * PostgreSQL): stores `bundle` (undisputed) and returns true only when it is
   * the gateway's new head in a clean chain: nothing held at or after its
   * sequence, its digest not held, and its previous hash the digest of the one
   * bundle held at the sequence before, which is neither disputed nor
   * overruled and itself links to what is held before it (genesis at 1).
   * Then the chain verdicts (chain-verdicts.ts) change nothing and raise or
   * close no alert, so the full `withGateway` path is not needed. Otherwise it
   * stores nothing and returns false, and the caller takes the full path.
   */
  appendHead?(
    bundle: StoredBundle,
    uplinks: UplinkRecord[],
    plotDefinitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<boolean>;
  /** Every held bundle of a gateway with this sequence number (more than one only in an equivocation). */
  bundlesAtSeq(gatewayId: string, seq: number): Promise<StoredBundle[]>;
  getBundleByDigest(digest: string): Promise<StoredBundle | undefined>;
  /** Highest stored sequence number of a gateway, or 0 when none. */
  headSeq(gatewayId: string): Promise<number>;
  /** By gateway, then sequence, then digest. */
  listBundles(gatewayId?: string): Promise<StoredBundle[]>;

  putCommitment(commitment: StoredCommitment): Promise<void>;
  getCommitment(gatewayId: string, day: number): Promise<StoredCommitment | undefined>;

  /** Stores a verified period statement; false (nothing changed) when one with its digest is held. */
  putPeriodStatement(statement: StoredPeriodStatement): Promise<boolean>;
  /** Held period statements (of one gateway), by gateway, first day, last day, then digest. */
  listPeriodStatements(gatewayId?: string): Promise<StoredPeriodStatement[]>;

  putAlert(alert: RegionalAlert): Promise<void>;
  /** Open alerts, oldest first; closed ones too with `includeClosed`. */
  listAlerts(gatewayId?: string, options?: { includeClosed?: boolean }): Promise<RegionalAlert[]>;

  getPlotDefinition(
    geometryHash: string,
  ): Promise<{ plotId: string; definition: PlotDefinition } | undefined>;
  /** Uplinks of one plot within a time range, with the bundle (gateway, seq, digest) that carried each. */
  evidenceForPlot(query: EvidenceQuery): Promise<PlotEvidence[]>;

  close(): Promise<void>;
}
