/**
 * The gateway's data model: RxDB collections with JSON schemas and indexes.
 *
 * RxDB's free core allows at most 13 collections per process (the demo runs
 * the regional node's store in its own process too), so the gateway keeps to 7: state
 * that is small and keyed (sequence numbers, join nonces, checkpoints, gateway
 * state) shares one `kv` collection instead of a collection each.
 *
 * Primary keys are idempotent: an uplink is `devEui|session|fCnt32` (its
 * readings live inside it), so a batch retried after a crash is a no-op (a 409
 * conflict with the same frame is "already stored"), never a duplicate; a 409
 * with a different frame is an error and an alarm (kernel/db/ingest.ts).
 */
import type { RxJsonSchema } from 'rxdb';

/** Readings not yet in a bundle carry this sequence number. */
export const UNSEALED = -1;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const timeMs = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000, multipleOf: 1 } as const;
const seq = { type: 'integer', minimum: -1, maximum: MAX_SAFE, multipleOf: 1 } as const;
const eui = { type: 'string', maxLength: 16 } as const;

export interface StoredReading {
  /** Field path in the decoded object, e.g. `temperatureSensor.3`. */
  field: string;
  value: number;
  scale: number;
}

export interface UplinkDoc {
  id: string;
  devEui: string;
  devAddr: string;
  applicationId: string;
  fCnt: number;
  fPort?: number;
  confirmed: boolean;
  adr: boolean;
  dr?: number;
  /** PHYPayload as received, base64. */
  phy: string;
  /** Decrypted FRMPayload, base64. */
  data?: string;
  object?: Record<string, unknown>;
  codecErrors?: string[];
  rxInfo: Record<string, unknown>[];
  frequencyHz: number;
  receivedAt: number;
  /** ISO 8601 UTC reception time. */
  time: string;
  timeSource: 'gps' | 'ntp' | 'host-unsynced';
  plotId?: string;
  /**
   * The decoded object's numeric fields as fixed-point integers (`value × 10^scale`):
   * what a bundle seals. Kept inside the uplink document, not as documents of
   * their own: one write per uplink instead of one per field (the ingest bench
   * measured separate reading documents at ~80% of the store's CPU).
   */
  readings?: StoredReading[];
  /** Sequence number of the bundle that sealed this uplink's readings, UNSEALED until then. */
  sealedSeq: number;
}

export const uplinkSchema: RxJsonSchema<UplinkDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 40 },
    devEui: eui,
    devAddr: { type: 'string', maxLength: 8 },
    applicationId: { type: 'string', maxLength: 64 },
    fCnt: { type: 'integer', minimum: 0, maximum: 0xffffffff, multipleOf: 1 },
    fPort: { type: 'integer', minimum: 0, maximum: 255 },
    confirmed: { type: 'boolean' },
    adr: { type: 'boolean' },
    dr: { type: 'integer', minimum: 0, maximum: 15 },
    phy: { type: 'string' },
    data: { type: 'string' },
    object: { type: 'object' },
    codecErrors: { type: 'array', items: { type: 'string' } },
    rxInfo: { type: 'array', items: { type: 'object' } },
    frequencyHz: { type: 'integer', minimum: 0, maximum: 10_000_000_000 },
    receivedAt: timeMs,
    time: { type: 'string', maxLength: 40 },
    timeSource: { type: 'string', enum: ['gps', 'ntp', 'host-unsynced'], maxLength: 16 },
    plotId: { type: 'string', maxLength: 64 },
    readings: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, value: { type: 'integer' }, scale: { type: 'integer' } },
        required: ['field', 'value', 'scale'],
      },
    },
    sealedSeq: seq,
  },
  required: [
    'id',
    'devEui',
    'devAddr',
    'applicationId',
    'fCnt',
    'confirmed',
    'adr',
    'phy',
    'rxInfo',
    'frequencyHz',
    'receivedAt',
    'time',
    'timeSource',
    'sealedSeq',
  ],
  indexes: ['receivedAt', ['devEui', 'receivedAt'], ['sealedSeq', 'receivedAt']],
};

/**
 * A network-server record keyed by DevEUI and indexed by DevAddr: the device
 * registry entry and the device's session share this shape. The record is the
 * network server's plain JSON (keys hex-encoded); the DevAddr beside it is
 * what the uplink lookup indexes ('' when the device has none yet).
 */
export interface NetworkRecordDoc {
  devEui: string;
  devAddr: string;
  record: Record<string, unknown>;
  updatedAt: number;
}

export type DeviceDoc = NetworkRecordDoc;
export type SessionDoc = NetworkRecordDoc;

function networkRecordSchema(): RxJsonSchema<NetworkRecordDoc> {
  return {
    version: 0,
    primaryKey: 'devEui',
    type: 'object',
    properties: {
      devEui: eui,
      devAddr: { type: 'string', maxLength: 8 },
      record: { type: 'object' },
      updatedAt: timeMs,
    },
    required: ['devEui', 'devAddr', 'record', 'updatedAt'],
    indexes: ['devAddr'],
  };
}

export const deviceSchema = networkRecordSchema();
export const sessionSchema = networkRecordSchema();

/** One used DevNonce: `devEui|nonce`. Existence is the fact. */
export interface DevNonceDoc {
  id: string;
  devEui: string;
  devNonce: number;
  usedAt: number;
}

export const devNonceSchema: RxJsonSchema<DevNonceDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 24 },
    devEui: eui,
    devNonce: { type: 'integer', minimum: 0, maximum: 0xffff },
    usedAt: timeMs,
  },
  required: ['id', 'devEui', 'devNonce', 'usedAt'],
};

export interface PlotDoc {
  id: string;
  name: string;
  /** Area in hectares × 10^4 (fixed-point, no floats in evidence). */
  areaHa4: number;
  /** GeoJSON geometry (Point or Polygon, WGS84 [lon, lat]). */
  geometry: Record<string, unknown>;
  createdAt: number;
}

export const plotSchema: RxJsonSchema<PlotDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    name: { type: 'string' },
    areaHa4: { type: 'integer', minimum: 0 },
    geometry: { type: 'object' },
    createdAt: timeMs,
  },
  required: ['id', 'name', 'areaHa4', 'geometry', 'createdAt'],
};

export interface BundleDoc {
  /** Sequence number, zero-padded so that string order is numeric order. */
  id: string;
  seq: number;
  /** The exact signed COSE_Sign1 bytes, base64. */
  cose: string;
  /** SHA-256 of the COSE bytes, hex. */
  digest: string;
  kind: 'bundle' | 'commitment';
  fromMs: number;
  toMs: number;
  uplinkCount: number;
  /** Uplinks per time source, as the bundle's summary says (what a daily commitment adds up). */
  timeSources?: { gps: number; ntp: number; 'host-unsynced': number };
  createdAt: number;
  /** pending → acked by the regional node. */
  syncState: 'pending' | 'acked';
  ackedAt?: number;
}

export const bundleSchema: RxJsonSchema<BundleDoc> = {
  // Version 1 adds the (kind, toMs) index; its documents are version 0's unchanged (farm-db.ts migrates).
  version: 1,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 24 },
    seq: { type: 'integer', minimum: 0, maximum: MAX_SAFE, multipleOf: 1 },
    cose: { type: 'string' },
    digest: { type: 'string', maxLength: 64 },
    kind: { type: 'string', enum: ['bundle', 'commitment'], maxLength: 16 },
    fromMs: timeMs,
    toMs: timeMs,
    uplinkCount: { type: 'integer', minimum: 0 },
    timeSources: {
      type: 'object',
      properties: {
        gps: { type: 'integer' },
        ntp: { type: 'integer' },
        'host-unsynced': { type: 'integer' },
      },
    },
    createdAt: timeMs,
    syncState: { type: 'string', enum: ['pending', 'acked'], maxLength: 8 },
    ackedAt: timeMs,
  },
  required: [
    'id',
    'seq',
    'cose',
    'digest',
    'kind',
    'fromMs',
    'toMs',
    'uplinkCount',
    'createdAt',
    'syncState',
  ],
  // (kind, toMs): the bundles of a day, in time order, without reading every sealed bundle.
  indexes: [
    ['syncState', 'seq'],
    ['kind', 'toMs'],
  ],
};

/** Small keyed state: sequence counters, join nonces, checkpoints, gateway state, outbox cursors. */
export interface KvDoc {
  key: string;
  value: Record<string, unknown>;
  updatedAt: number;
}

export const kvSchema: RxJsonSchema<KvDoc> = {
  version: 0,
  primaryKey: 'key',
  type: 'object',
  properties: {
    key: { type: 'string', maxLength: 128 },
    value: { type: 'object' },
    updatedAt: timeMs,
  },
  required: ['key', 'value', 'updatedAt'],
};

export const farmCollections = {
  uplinks: { schema: uplinkSchema },
  devices: { schema: deviceSchema },
  sessions: { schema: sessionSchema },
  devnonces: { schema: devNonceSchema },
  plots: { schema: plotSchema },
  bundles: {
    schema: bundleSchema,
    migrationStrategies: { 1: (doc: BundleDoc) => doc },
    // Migrated by openFarmDatabase a few documents at a time: a bundle document can be large.
    autoMigrate: false,
  },
  kv: { schema: kvSchema },
} as const;

/**
 * An uplink's identity: the device, its session (DeviceSession.generation) and the 32-bit
 * FCnt. Session 0 keeps the key format of stores written before sessions were part of it
 * (`devEui|fCnt32`), so those stores' rows are exactly session 0's and need no rewrite;
 * later sessions are `devEui|session|fCnt32`.
 */
export function uplinkId(devEui: string, session: number, fCnt: number): string {
  const counter = fCnt.toString().padStart(10, '0');
  return session === 0
    ? `${devEui}|${counter}`
    : `${devEui}|${session.toString().padStart(6, '0')}|${counter}`;
}

/** The session an uplink id names (0 for the two-part ids of session 0). */
export function sessionOfUplinkId(id: string): number {
  const parts = id.split('|');
  return parts.length === 3 ? Number.parseInt(parts[1] as string, 10) : 0;
}

export function bundleId(seq: number): string {
  return seq.toString().padStart(16, '0');
}
