/**
 * The documents of the RxDB regional store (rxdb-store.ts): JSON schemas of
 * its three collections and the mapping of a bundle document back to a
 * StoredBundle.
 */
import type { RxCollection, RxJsonSchema } from 'rxdb';
import type { DeviceSummary, TimeSource } from '../proto/bundle/types.js';
import type { StoredBundle } from './store.js';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const int = { type: 'integer', minimum: 0, maximum: MAX_SAFE, multipleOf: 1 } as const;

export interface BundleDoc {
  id: string;
  gatewayId: string;
  seq: number;
  digest: string;
  prevHash: string;
  kid: string;
  cose: string;
  iat: number;
  sub: string;
  timeStart: number;
  timeEnd: number;
  uplinkCount: number;
  timeSources: Record<TimeSource, number>;
  plots: { plotId: string; geometryHash: string }[];
  devices: (Omit<DeviceSummary, 'devEui'> & { devEui: string })[];
  receivedAt: number;
  source: string;
  disputed: boolean;
  overruled?: boolean;
}

export interface UplinkDoc {
  id: string;
  gatewayId: string;
  seq: number;
  /** Digest of the bundle that carried it. */
  bundle: string;
  devEui: string;
  /** '' when the device had no plot (RxDB indexes need a value). */
  plotId: string;
  fCnt: number;
  receivedAt: number;
  timeSource: TimeSource;
  readings: { field: string; scale: number; value: number }[];
}

/** Code-unit order, as PostgreSQL's "C" collation sorts ASCII ids: both engines list alike. */
export const codeOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface RecordDoc {
  id: string;
  kind: 'gateway' | 'alert' | 'plot' | 'commitment' | 'statement';
  gatewayId: string;
  at: number;
  data: Record<string, unknown>;
}

export const bundleSchema: RxJsonSchema<BundleDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 220 },
    gatewayId: { type: 'string', maxLength: 128 },
    seq: int,
    digest: { type: 'string', maxLength: 64 },
    prevHash: { type: 'string' },
    kid: { type: 'string' },
    cose: { type: 'string' },
    iat: { type: 'integer' },
    sub: { type: 'string' },
    timeStart: { type: 'integer' },
    timeEnd: { type: 'integer' },
    uplinkCount: { type: 'integer' },
    timeSources: { type: 'object' },
    plots: { type: 'array', items: { type: 'object' } },
    devices: { type: 'array', items: { type: 'object' } },
    receivedAt: { type: 'integer' },
    source: { type: 'string' },
    disputed: { type: 'boolean' },
    overruled: { type: 'boolean' },
  },
  required: ['id', 'gatewayId', 'seq', 'digest', 'cose'],
  indexes: [['gatewayId', 'seq'], 'digest'],
};

export const uplinkSchema: RxJsonSchema<UplinkDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 200 },
    gatewayId: { type: 'string', maxLength: 128 },
    seq: int,
    bundle: { type: 'string' },
    devEui: { type: 'string', maxLength: 16 },
    plotId: { type: 'string', maxLength: 128 },
    fCnt: int,
    receivedAt: int,
    timeSource: { type: 'string' },
    readings: { type: 'array', items: { type: 'object' } },
  },
  required: ['id', 'gatewayId', 'seq', 'devEui', 'plotId', 'fCnt', 'receivedAt'],
  indexes: [['plotId', 'receivedAt']],
};

export const recordSchema: RxJsonSchema<RecordDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 200 },
    kind: { type: 'string', maxLength: 16 },
    gatewayId: { type: 'string', maxLength: 128 },
    at: int,
    data: { type: 'object' },
  },
  required: ['id', 'kind', 'gatewayId', 'at', 'data'],
  indexes: [['kind', 'gatewayId']],
};

export interface RegionalCollections {
  regional_bundles: RxCollection<BundleDoc>;
  regional_uplinks: RxCollection<UplinkDoc>;
  regional_records: RxCollection<RecordDoc>;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const bundleId = (gatewayId: string, seq: number, digest: string): string =>
  `${gatewayId}|${String(seq).padStart(16, '0')}|${digest}`;

export function toStored({ id: _id, ...doc }: BundleDoc): StoredBundle {
  return {
    ...doc,
    disputed: doc.disputed === true,
    cose: new Uint8Array(Buffer.from(doc.cose, 'base64')),
    devices: doc.devices.map((d) => ({ ...d, devEui: fromHex(d.devEui) })),
  };
}
