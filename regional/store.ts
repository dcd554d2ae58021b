/**
 * The seam between the regional node and its storage. The embedded default
 * is RxDB (rxdb-store.ts) on whatever RxStorage it is given: SQLite in
 * production, memory in unit tests. A backend for many gateways on a database
 * server implements this same interface later.
 */
import type { DeviceSummary, PlotDefinition, TimeSource, UplinkRecord } from '../proto/bundle/types.js';

/** A registered gateway public key. A gateway may have several (rotation). */
export interface GatewayKeyRecord {
  gatewayId: string;
  /** hex of the 8-byte kid. */
  kid: string;
  /** 32 bytes. */
  publicKey: Uint8Array;
  label?: string;
  addedAt: number;
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
  receivedAt: number;
  source: string;
}

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

export interface EvidenceQuery {
  plotId: string;
  /** Unix ms, inclusive. */
  from: number;
  to: number;
}

export interface RegionalStore {
  putGatewayKey(record: GatewayKeyRecord): Promise<void>;
  removeGatewayKey(kid: string): Promise<boolean>;
  listGatewayKeys(): Promise<GatewayKeyRecord[]>;

  getBundle(gatewayId: string, seq: number): Promise<StoredBundle | undefined>;
  /** Highest stored sequence number of a gateway, or 0 when none. */
  headSeq(gatewayId: string): Promise<number>;
  /** Stores the bundle with its decoded uplinks and any plot definitions it carried, atomically enough that a retry is harmless. */
  putBundle(
    bundle: StoredBundle,
    uplinks: UplinkRecord[],
    plotDefinitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<void>;
  listBundles(gatewayId?: string): Promise<StoredBundle[]>;

  putCommitment(commitment: StoredCommitment): Promise<void>;
  getCommitment(gatewayId: string, day: number): Promise<StoredCommitment | undefined>;

  putAlert(alert: RegionalAlert): Promise<void>;
  listAlerts(gatewayId?: string): Promise<RegionalAlert[]>;

  getPlotDefinition(
    geometryHash: string,
  ): Promise<{ plotId: string; definition: PlotDefinition } | undefined>;
  /** Uplinks of one plot within a time range, with the (gateway, seq) of the bundle that carried each. */
  evidenceForPlot(query: EvidenceQuery): Promise<{ gatewayId: string; seq: number; uplink: UplinkRecord }[]>;

  close(): Promise<void>;
}
