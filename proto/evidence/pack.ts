/**
 * The evidence pack (EVIDENCE.md): one deterministic CBOR item a regulator can verify offline.
 *
 *   pack = { 0: 1 (version), 1: signed claims (COSE_Sign1 bytes, regional key),
 *            2: [+ period statement bytes] (gateway keys), 3: spot check / null, 4: GeoJSON text / null }
 *   signed claims payload = { 0: 1, 1: claims, 2: [+ key registration], 3: SHA-256(GeoJSON) / null }
 *   key registration = [role 0 gateway / 1 regional, id, public key, added-at ms, removed-at ms / null]
 *   spot check = [nonce, k, [+ leaf bytes] in draw order, [+ receipt bytes] one per statement drawn from]
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, encodeCbor } from '../bundle/cbor-encode.js';
import { claimsFromCbor, claimsToCbor, type PlotClaims } from './claims.js';
import { EvidenceCheckError } from './proof-check.js';

export const PACK_VERSION = 1;
export const CLAIMS_CONTENT_TYPE = 'application/vnd.maverick.claims+cbor';
/** Far beyond a farm-decade pack (a year is ~16 KB); refused before parsing. */
export const MAX_PACK_BYTES = 8 * 1024 * 1024;

export type KeyRole = 'gateway' | 'regional';

export interface KeyRegistration {
  role: KeyRole;
  /** Gateway id, or the regional node's issuer name. */
  id: string;
  publicKey: Uint8Array;
  /** Unix ms when the regional node registered (or, for its own key, began using) it. */
  addedAt: number;
  /** Unix ms when it was rotated out; null while in use. */
  removedAt: number | null;
}

export interface ClaimsPayload {
  claims: PlotClaims;
  keys: KeyRegistration[];
  /** SHA-256 of the pack's GeoJSON text (UTF-8), or null when the pack carries none. */
  geojsonDigest: Uint8Array | null;
}

export interface SpotCheck {
  nonce: Uint8Array;
  /** Records asked for (the answer holds min(k, committed leaves)). */
  k: number;
  /** The drawn leaves (PROOF.md §1 bytes), in draw order. */
  leaves: Uint8Array[];
  /** COSE Receipts, one per statement a draw fell in, in statement order; proofs in draw order. */
  receipts: Uint8Array[];
}

export interface EvidencePack {
  signedClaims: Uint8Array;
  statements: Uint8Array[];
  spotCheck: SpotCheck | null;
  geojson: string | null;
}

const ROLES: readonly KeyRole[] = ['gateway', 'regional'];

export function encodeClaimsPayload(p: ClaimsPayload): Uint8Array {
  return encodeCbor(
    new Map<number, CborValue>([
      [0, PACK_VERSION],
      [1, claimsToCbor(p.claims)],
      [2, p.keys.map((k) => [ROLES.indexOf(k.role), k.id, k.publicKey, k.addedAt, k.removedAt])],
      [3, p.geojsonDigest],
    ]),
  );
}

const bad = (message: string): never => {
  throw new EvidenceCheckError(message);
};

const uintOrNull = (v: CborValue | undefined): number | null =>
  v === null
    ? null
    : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? v
      : bad('expected a time or null');

export function decodeClaimsPayload(bytes: Uint8Array): ClaimsPayload {
  const v = decodeCbor(bytes, { maxDepth: 6 });
  if (!(v instanceof Map) || v.size !== 4 || v.get(0) !== PACK_VERSION)
    return bad('claims payload: unexpected shape or version');
  const keys = v.get(2);
  const geojsonDigest = v.get(3);
  if (!Array.isArray(keys)) return bad('claims payload: keys must be an array');
  if (geojsonDigest !== null && !(geojsonDigest instanceof Uint8Array && geojsonDigest.length === 32))
    return bad('claims payload: GeoJSON digest must be 32 bytes or null');
  let claims: PlotClaims;
  try {
    claims = claimsFromCbor(v.get(1) ?? null);
  } catch (err) {
    return bad(`claims payload: ${(err as Error).message}`);
  }
  return {
    claims,
    keys: keys.map((k): KeyRegistration => {
      if (!Array.isArray(k) || k.length !== 5) return bad('a key registration has 5 elements');
      const [role, id, publicKey, addedAt, removedAt] = k;
      const r = typeof role === 'number' ? ROLES[role] : undefined;
      if (!r || typeof id !== 'string' || !(publicKey instanceof Uint8Array) || publicKey.length !== 32)
        return bad('key registration: role, id or 32-byte key malformed');
      return {
        role: r,
        id,
        publicKey,
        addedAt: uintOrNull(addedAt) ?? bad('added-at is required'),
        removedAt: uintOrNull(removedAt),
      };
    }),
    geojsonDigest,
  };
}

export function encodePack(pack: EvidencePack): Uint8Array {
  const spot = pack.spotCheck;
  return encodeCbor(
    new Map<number, CborValue>([
      [0, PACK_VERSION],
      [1, pack.signedClaims],
      [2, pack.statements],
      [3, spot ? [spot.nonce, spot.k, spot.leaves, spot.receipts] : null],
      [4, pack.geojson],
    ]),
  );
}

const byteList = (v: CborValue | undefined, what: string): Uint8Array[] =>
  Array.isArray(v) && v.every((x) => x instanceof Uint8Array)
    ? (v as Uint8Array[])
    : bad(`${what} must be a list of byte strings`);

/** Reads a pack strictly (one canonical encoding); the contents are verified by verify.ts. */
export function decodePack(bytes: Uint8Array): EvidencePack {
  if (bytes.length > MAX_PACK_BYTES)
    return bad(`pack is ${bytes.length} bytes, over the ${MAX_PACK_BYTES}-byte limit`);
  let v: CborValue;
  try {
    v = decodeCbor(bytes, { maxDepth: 4 });
  } catch (err) {
    return bad(`not a canonical CBOR evidence pack: ${(err as Error).message}`);
  }
  if (!(v instanceof Map) || v.size !== 5 || v.get(0) !== PACK_VERSION)
    return bad('not a version-1 evidence pack');
  const signedClaims = v.get(1);
  const spot = v.get(3);
  const geojson = v.get(4);
  if (!(signedClaims instanceof Uint8Array)) return bad('signed claims must be a byte string');
  if (geojson !== null && typeof geojson !== 'string') return bad('GeoJSON must be text or null');
  let spotCheck: SpotCheck | null = null;
  if (spot !== null) {
    if (!Array.isArray(spot) || spot.length !== 4)
      return bad('spot check must be [nonce, k, leaves, receipts]');
    const [nonce, k, leaves, receipts] = spot;
    if (!(nonce instanceof Uint8Array) || typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0)
      return bad('spot check nonce or size malformed');
    spotCheck = {
      nonce,
      k,
      leaves: byteList(leaves, 'spot-check leaves'),
      receipts: byteList(receipts, 'receipts'),
    };
  }
  return { signedClaims, statements: byteList(v.get(2), 'statements'), spotCheck, geojson };
}
