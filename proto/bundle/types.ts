/**
 * The bundle content model: what a gateway seals and what a verifier gets
 * back. All numbers are integers: readings are fixed-point (value × 10^scale),
 * times are Unix milliseconds, coordinates are micro-degrees (WGS84).
 */

/** Where a reading's timestamp came from. Bundles never hide unsynchronised time. */
export type TimeSource = 'gps' | 'ntp' | 'host-unsynced';
export const TIME_SOURCES: readonly TimeSource[] = ['gps', 'ntp', 'host-unsynced'];

export interface Reading {
  /** Field name as the device codec reports it, e.g. "soil_moisture". */
  field: string;
  /** Decimal exponent: the physical value is `value × 10^scale` (e.g. -2 for hundredths). */
  scale: number;
  value: number;
}

export interface UplinkRecord {
  /** 8-byte DevEUI. */
  devEui: Uint8Array;
  /** The plot the device belonged to when it sent this, or null when unassigned. */
  plotId: string | null;
  fCnt: number;
  /**
   * The device session it was sent in (0, 1, … : +1 at every join or counter reset); absent
   * means 0. FCnt gaps are computed within a session. Format 1 bundles have no sessions.
   */
  session?: number;
  /** Unix ms. */
  receivedAt: number;
  timeSource: TimeSource;
  readings: Reading[];
}

/** [longitude, latitude] in micro-degrees (RFC 7946 order). */
export type MicroPosition = [number, number];

export type PlotGeometry =
  | { type: 'Point'; coordinates: MicroPosition }
  /** Linear rings, first exterior, closed (first position repeated last) as in RFC 7946 §3.1.6. */
  | { type: 'Polygon'; coordinates: MicroPosition[][] };

export interface PlotDefinition {
  /** Plot area in square metres (EUDR: Point allowed up to 4 ha = 40 000 m²). */
  areaM2: number;
  geometry: PlotGeometry;
}

export interface PlotReference {
  plotId: string;
  /** SHA-256 of the deterministic CBOR of the definition. */
  geometryHash: Uint8Array;
  /** Carried in the first bundle that names the plot; later bundles carry only the hash. */
  definition?: PlotDefinition;
}

/** One session of one device in a bundle (format 2). */
export interface SessionSummary {
  session: number;
  uplinks: number;
  /** In receive order. */
  fCntFirst: number;
  fCntLast: number;
}

export interface DeviceSummary {
  devEui: Uint8Array;
  plotId: string | null;
  uplinks: number;
  fCntFirst: number;
  fCntLast: number;
  /** Inclusive FCnt ranges never received between consecutive uplinks of one session: the gaps, made visible. */
  missingFCnt: [number, number][];
  /**
   * Times the FCnt went backwards within one session in receive order. Format 1 has one
   * session per device, so there every rejoin or reset counts here.
   */
  counterResets: number;
  /** Format 2: the device's sessions in this bundle, by session number; a rejoin or reset starts one. */
  sessions: SessionSummary[];
}

export interface TimeRange {
  /** Unix ms, inclusive. */
  start: number;
  /** Unix ms, inclusive. */
  end: number;
}

/** What the sealer hands to encodeBundlePayload. */
export interface BundleContent {
  seq: number;
  /** SHA-256 of the previous bundle's COSE bytes; 32 zero bytes for the genesis bundle. */
  prevHash: Uint8Array;
  /** The sealing window; every uplink's receivedAt lies inside it. */
  timeRange: TimeRange;
  plots: PlotReference[];
  uplinks: UplinkRecord[];
  /** Raw-deflate the telemetry block (RFC 1951). */
  compress: boolean;
  /** Format to write (default BUNDLE_FORMAT_VERSION); decoders re-encode in the format they read. */
  version?: BundleFormatVersion;
}

/** What decodeBundlePayload returns: the content plus the summaries it carries. */
export interface DecodedBundle extends BundleContent {
  version: BundleFormatVersion;
  timeSources: Record<TimeSource, number>;
  devices: DeviceSummary[];
  /** Format 3: the root and digest the statement signs, and the salt seed from the telemetry. */
  commitment?: BundleCommitment & { saltSeed: Uint8Array };
}

/**
 * Format 1: no sessions. Format 2: a session column per device block and per-session summaries.
 * Format 3 (proto/proof/PROOF.md §3): format 2's content as a signed statement with a Merkle
 * root over salted record leaves; the telemetry travels beside it, bound by digest.
 */
export type BundleFormatVersion = 1 | 2 | 3;
/** What `encodeBundlePayload` writes by default: the last format whose payload holds the telemetry. */
export const BUNDLE_FORMAT_VERSION: BundleFormatVersion = 2;
/** What the gateway seals (`sealBundle`). */
export const SEALED_BUNDLE_FORMAT: BundleFormatVersion = 3;
export const SUPPORTED_BUNDLE_FORMATS: readonly BundleFormatVersion[] = [1, 2, 3];

/** What a format 3 statement commits to beyond format 2's summaries. */
export interface BundleCommitment {
  /** SHA-256 of the telemetry block's plain deterministic CBOR (salt seed included). */
  telemetryDigest: Uint8Array;
  /** Records in the bundle: the Merkle tree's size. */
  leaves: number;
  /** RFC 9162 MTH over the bundle's salted record leaves, in telemetry order. */
  root: Uint8Array;
}
export const GENESIS_PREV_HASH = new Uint8Array(32);
