/**
 * The bundle API: payload codec + COSE_Sign1 envelope + digest.
 * `verifyBundle` is the one entry point for untrusted bytes: it either returns
 * a fully verified, strictly decoded bundle or throws a Bundle* MaverickError
 * naming the precise reason.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import {
  type BundleClaims,
  type KeyResolver,
  type SigningKey,
  signSign1,
  type VerifiedSign1,
  verifySign1,
} from './cose.js';
import { type DecodePayloadOptions, decodeBundlePayload } from './payload.js';
import type { DecodedBundle } from './types.js';

/** Content type (COSE header 3) of a bundle. Text, not a CoAP number: none is registered for us. */
export const BUNDLE_CONTENT_TYPE = 'application/vnd.maverick.bundle+cbor';

export interface VerifyBundleOptions extends DecodePayloadOptions {
  /** Refuse larger COSE messages before parsing (default 1 MiB). */
  maxBytes?: number;
}

export interface VerifiedBundle {
  envelope: VerifiedSign1;
  bundle: DecodedBundle;
  /** SHA-256 of the exact COSE bytes: the chain link and the de-duplication key. */
  digest: Uint8Array;
}

export function bundleDigest(cose: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(cose).digest());
}

export function signBundle(payloadBytes: Uint8Array, key: SigningKey, claims: BundleClaims): Uint8Array {
  return signSign1(payloadBytes, key, BUNDLE_CONTENT_TYPE, claims);
}

export function verifyBundle(
  cose: Uint8Array,
  resolveKey: KeyResolver,
  options: VerifyBundleOptions = {},
): VerifiedBundle {
  const envelope = verifySign1(cose, resolveKey, options);
  if (envelope.contentType !== BUNDLE_CONTENT_TYPE) {
    throw new MaverickError(
      ErrorCode.BundleMalformed,
      `content type ${envelope.contentType} is not a bundle`,
      {
        hint: `expected ${BUNDLE_CONTENT_TYPE}`,
      },
    );
  }
  const bundle = decodeBundlePayload(envelope.payload, options);
  return { envelope, bundle, digest: bundleDigest(cose) };
}
