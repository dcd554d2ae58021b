/**
 * COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519, as Maverick profiles it:
 *   18([ protected: bstr .cbor { 1: alg, 3: content type, 4: kid, 15: CWT claims },
 *        unprotected: {} (empty in format 1; room for transparency receipts later),
 *        payload: bstr, signature: bstr .size 64 ])
 * Signed over Sig_structure ["Signature1", protected, h'' (external_aad), payload]
 * (RFC 9052 §4.4). CWT claims in the header per RFC 9597: 1 iss, 2 sub, 6 iat.
 * Signing uses alg -8 (EdDSA); verifiers accept -8 and -19 (Ed25519, RFC 9864).
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, type CborValue, CborWriter, encodeCbor, encodeTaggedCbor } from './cbor-encode.js';
import { ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify, toHex } from './ed25519.js';

export const COSE_SIGN1_TAG = 18;
export const ALG_EDDSA = -8;
export const ALG_ED25519 = -19;
export const HeaderLabel = { alg: 1, contentType: 3, kid: 4, cwtClaims: 15 } as const;
export const ClaimKey = { iss: 1, sub: 2, iat: 6 } as const;

export interface SigningKey {
  kid: Uint8Array;
  secretKey: Uint8Array;
}

export interface BundleClaims {
  /** Gateway id (iss). */
  iss: string;
  /** Farm / plot scope (sub). */
  sub: string;
  /** Issued-at, Unix seconds (iat). */
  iat: number;
}

export interface VerifiedSign1 {
  alg: number;
  kid: Uint8Array;
  contentType: string;
  claims: BundleClaims;
  protectedBytes: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
  /** Unprotected header entries (only labels the caller allowed; empty for formats 1 and 2). */
  unprotected: CborMap;
}

export type KeyResolver = (kid: Uint8Array) => Uint8Array | undefined;

/** RFC 9052 §4.4 Sig_structure for COSE_Sign1 with empty external AAD. */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/**
 * Signs `payload`; `unprotected` (default empty) is carried outside the signature: bundle format
 * 3 puts its detached telemetry there, bound by a digest inside the payload.
 */
export function signSign1(
  payload: Uint8Array,
  key: SigningKey,
  contentType: string,
  claims: BundleClaims,
  unprotected: CborMap = new Map(),
): Uint8Array {
  if (!Number.isSafeInteger(claims.iat) || claims.iat < 0) {
    throw new MaverickError(ErrorCode.BundleMalformed, `iat ${claims.iat} is not Unix seconds`);
  }
  const protectedMap: CborMap = new Map<number, CborValue>([
    [HeaderLabel.alg, ALG_EDDSA],
    [HeaderLabel.contentType, contentType],
    [HeaderLabel.kid, key.kid],
    [
      HeaderLabel.cwtClaims,
      new Map<number, CborValue>([
        [ClaimKey.iss, claims.iss],
        [ClaimKey.sub, claims.sub],
        [ClaimKey.iat, claims.iat],
      ]),
    ],
  ]);
  const protectedBytes = encodeCbor(protectedMap);
  const signature = ed25519Sign(sigStructure(protectedBytes, payload), key.secretKey);
  return encodeTaggedCbor(COSE_SIGN1_TAG, [protectedBytes, unprotected, payload, signature]);
}

/** The same COSE_Sign1 with an empty unprotected header: a format 3 bundle's statement form. */
export function statementForm(
  envelope: Pick<VerifiedSign1, 'protectedBytes' | 'payload' | 'signature'>,
): Uint8Array {
  return encodeTaggedCbor(COSE_SIGN1_TAG, [
    envelope.protectedBytes,
    new Map(),
    envelope.payload,
    envelope.signature,
  ]);
}

/**
 * SHA-256 of statementForm(envelope), hashed piece by piece (heads, then each byte string as it
 * is) instead of copying the pieces into one new message first: every bundle verified needs it.
 */
export function statementFormDigest(
  envelope: Pick<VerifiedSign1, 'protectedBytes' | 'payload' | 'signature'>,
): Uint8Array {
  const hash = createHash('sha256');
  const heads = new CborWriter();
  heads.head(6, COSE_SIGN1_TAG);
  heads.head(4, 4);
  heads.head(2, envelope.protectedBytes.length);
  hash.update(heads.view()).update(envelope.protectedBytes);
  heads.reset();
  heads.head(5, 0); // the emptied unprotected header
  heads.head(2, envelope.payload.length);
  hash.update(heads.view()).update(envelope.payload);
  heads.reset();
  heads.head(2, envelope.signature.length);
  hash.update(heads.view()).update(envelope.signature);
  const digest = hash.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `COSE_Sign1: ${message}`);
}

/** The CWT claims (RFC 9597) of a protected header: exactly iss, sub, iat. */
export function parseClaims(value: CborValue | undefined): BundleClaims {
  if (!(value instanceof Map) || value.size !== 3)
    throw malformed('CWT claims (15) must hold exactly iss, sub, iat');
  const iss = value.get(ClaimKey.iss);
  const sub = value.get(ClaimKey.sub);
  const iat = value.get(ClaimKey.iat);
  if (typeof iss !== 'string' || typeof sub !== 'string' || typeof iat !== 'number' || iat < 0) {
    throw malformed('CWT claims need iss (text), sub (text) and iat (Unix seconds)');
  }
  return { iss, sub, iat };
}

export interface VerifySign1Options {
  /** Refuse anything larger (default 1 MiB) before parsing it. */
  maxBytes?: number;
  /** Unprotected labels that may appear, each holding a byte string (default none). */
  unprotectedLabels?: readonly number[];
}

/**
 * Parses and verifies the envelope; the payload bytes are returned only when
 * the signature holds, so nothing unauthenticated is interpreted further.
 */
export function verifySign1(
  cose: Uint8Array,
  resolveKey: KeyResolver,
  options: VerifySign1Options = {},
): VerifiedSign1 {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  if (cose.length > maxBytes) {
    throw new MaverickError(
      ErrorCode.BundleOversize,
      `bundle is ${cose.length} bytes, the limit is ${maxBytes}`,
      {
        context: { bytes: cose.length, maxBytes },
      },
    );
  }
  const root = decodeCbor(cose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 4 });
  if (!Array.isArray(root) || root.length !== 4) throw malformed('must be an array of 4');
  const [protectedBytes, unprotected, payload, signature] = root;
  if (!(protectedBytes instanceof Uint8Array)) throw malformed('protected header must be a byte string');
  const allowed = options.unprotectedLabels ?? [];
  if (!(unprotected instanceof Map)) throw malformed('unprotected header must be a map');
  for (const [label, value] of unprotected) {
    if (!allowed.includes(label as number) || !(value instanceof Uint8Array)) {
      throw malformed(
        `unprotected header label ${String(label)} is not allowed (it would be an unsigned change)`,
      );
    }
  }
  if (!(payload instanceof Uint8Array)) throw malformed('payload must be an attached byte string');
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    throw malformed('signature must be 64 bytes (Ed25519)');
  }
  const header = decodeCbor(protectedBytes, { maxDepth: 3 });
  if (!(header instanceof Map)) throw malformed('protected header must encode a map');
  for (const label of header.keys()) {
    if (!Object.values(HeaderLabel).includes(label as never))
      throw malformed(`unexpected protected header label ${label}`);
  }
  const alg = header.get(HeaderLabel.alg);
  const kid = header.get(HeaderLabel.kid);
  const contentType = header.get(HeaderLabel.contentType);
  if (alg !== ALG_EDDSA && alg !== ALG_ED25519) {
    throw malformed(`algorithm ${String(alg)} is not EdDSA (-8) or Ed25519 (-19)`);
  }
  if (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > 32)
    throw malformed('kid must be a byte string');
  if (typeof contentType !== 'string') throw malformed('content type (3) must be text');
  const claims = parseClaims(header.get(HeaderLabel.cwtClaims));
  const publicKey = resolveKey(kid);
  if (!publicKey) {
    throw new MaverickError(ErrorCode.BundleUnknownKey, `no registered key with kid ${toHex(kid)}`, {
      hint: 'register the gateway public key (`maverick regional gateway add`)',
      context: { kid: toHex(kid), iss: claims.iss },
    });
  }
  if (!ed25519Verify(signature, sigStructure(protectedBytes, payload), publicKey)) {
    throw new MaverickError(
      ErrorCode.BundleBadSignature,
      `Ed25519 signature does not verify for kid ${toHex(kid)}`,
      {
        context: { kid: toHex(kid), iss: claims.iss },
      },
    );
  }
  return { alg, kid, contentType, claims, protectedBytes, payload, signature, unprotected };
}
