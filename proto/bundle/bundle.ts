/**
 * The bundle API: payload codec + COSE_Sign1 envelope + digest.
 * `verifyBundle` is the one entry point for untrusted bytes: it either returns
 * a fully verified, strictly decoded bundle or throws a Bundle* MaverickError
 * naming the precise reason. `verifyBundleStatement` checks what a verifier
 * without the telemetry can check (format 3's statement form).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { COSE_LABEL } from '../proof/labels.js';
import { newSaltSeed } from '../proof/leaf.js';
import { decodeCbor } from './cbor-decode.js';
import {
  type BundleClaims,
  COSE_SIGN1_TAG,
  type KeyResolver,
  type SigningKey,
  signSign1,
  statementFormDigest,
  type VerifiedSign1,
  verifySign1,
} from './cose.js';
import { encodeBundleStatement } from './payload.js';
import { type DecodePayloadOptions, decodeBundlePayload } from './payload-decode.js';
import { sha256 } from './sha256.js';
import { type BundleStatement, decodeBundleStatement } from './statement.js';
import type { BundleCommitment, BundleContent, DecodedBundle } from './types.js';

/** Content type (COSE header 3) of a bundle. Text, not a CoAP number: none is registered for us. */
export const BUNDLE_CONTENT_TYPE = 'application/vnd.maverick.bundle+cbor';

export interface VerifyBundleOptions extends Omit<DecodePayloadOptions, 'telemetry'> {
  /** Refuse larger COSE messages before parsing (default 1 MiB). */
  maxBytes?: number;
}

export interface VerifiedBundle {
  envelope: VerifiedSign1;
  bundle: DecodedBundle;
  /** SHA-256 of the statement form (formats 1, 2: the exact COSE bytes): chain link and de-duplication key. */
  digest: Uint8Array;
}

/**
 * The digest of a bundle (PROOF.md §3.2): SHA-256 of its statement form, the COSE_Sign1 with
 * the unprotected header emptied. Formats 1 and 2 always have it empty, so theirs is the hash of
 * the exact bytes; format 3's stays the same when the detached telemetry is stripped. Bytes
 * that are not a COSE_Sign1 at all are hashed as they are (nothing verifies them anyway).
 */
export function bundleDigest(cose: Uint8Array): Uint8Array {
  let parts: unknown;
  try {
    parts = decodeCbor(cose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 4 });
  } catch {
    return sha256(cose);
  }
  if (!Array.isArray(parts) || parts.length !== 4) return sha256(cose);
  const [protectedBytes, unprotected, payload, signature] = parts;
  if (!(unprotected instanceof Map) || unprotected.size === 0) return sha256(cose);
  if (
    !(protectedBytes instanceof Uint8Array) ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  ) {
    return sha256(cose);
  }
  return statementFormDigest({ protectedBytes, payload, signature });
}

/** Signs a format 1 or 2 payload (telemetry inside). The gateway seals format 3 with `sealBundle`. */
export function signBundle(payloadBytes: Uint8Array, key: SigningKey, claims: BundleClaims): Uint8Array {
  return signSign1(payloadBytes, key, BUNDLE_CONTENT_TYPE, claims);
}

export interface SealedBundleBytes {
  /** The full bundle: statement signed, telemetry detached under unprotected label -65537. */
  cose: Uint8Array;
  /** SHA-256 of the statement form. */
  digest: Uint8Array;
  commitment: BundleCommitment;
}

/**
 * Seals a format 3 bundle (PROOF.md §3): the statement (summaries, telemetry digest, Merkle root
 * and size) is signed; the deflated telemetry, salt seed inside, travels beside it.
 */
export function sealBundle(
  content: BundleContent,
  key: SigningKey,
  claims: BundleClaims,
  saltSeed: Uint8Array = newSaltSeed(),
): SealedBundleBytes {
  const parts = encodeBundleStatement(content, saltSeed);
  const cose = signBundleStatement(parts.statement, parts.telemetry, key, claims);
  return { cose, digest: bundleDigest(cose), commitment: parts.commitment };
}

/**
 * Signs an encoded format 3 statement and puts its deflated telemetry beside it (what
 * `sealBundle` does after encoding the content): for callers that already hold both parts.
 */
export function signBundleStatement(
  statement: Uint8Array,
  telemetry: Uint8Array,
  key: SigningKey,
  claims: BundleClaims,
): Uint8Array {
  const unprotected = new Map([[COSE_LABEL.telemetry, telemetry]]);
  return signSign1(statement, key, BUNDLE_CONTENT_TYPE, claims, unprotected);
}

function envelopeOf(cose: Uint8Array, resolveKey: KeyResolver, options: VerifyBundleOptions): VerifiedSign1 {
  const envelope = verifySign1(cose, resolveKey, { ...options, unprotectedLabels: [COSE_LABEL.telemetry] });
  if (envelope.contentType !== BUNDLE_CONTENT_TYPE) {
    throw new MaverickError(
      ErrorCode.BundleMalformed,
      `content type ${envelope.contentType} is not a bundle`,
      {
        hint: `expected ${BUNDLE_CONTENT_TYPE}`,
      },
    );
  }
  return envelope;
}

function refuseTelemetryBeside(envelope: VerifiedSign1, version: number): void {
  if (version !== 3 && envelope.unprotected.size > 0) {
    throw new MaverickError(
      ErrorCode.BundleMalformed,
      `bundle format ${version} carries its telemetry inside the payload; its unprotected header must be empty`,
    );
  }
}

/** Verifies a whole bundle, telemetry included (format 3: the detached telemetry must be present). */
export function verifyBundle(
  cose: Uint8Array,
  resolveKey: KeyResolver,
  options: VerifyBundleOptions = {},
): VerifiedBundle {
  const envelope = envelopeOf(cose, resolveKey, options);
  const telemetry = envelope.unprotected.get(COSE_LABEL.telemetry) as Uint8Array | undefined;
  const bundle = decodeBundlePayload(envelope.payload, { ...options, telemetry });
  refuseTelemetryBeside(envelope, bundle.version);
  return { envelope, bundle, digest: statementFormDigest(envelope) };
}

export interface VerifiedBundleStatement {
  envelope: VerifiedSign1;
  statement: BundleStatement;
  digest: Uint8Array;
  /** Whether the telemetry came along (and was then verified too). */
  withTelemetry: boolean;
}

/**
 * Verifies what a bundle signs. A format 3 statement form (no telemetry) verifies alone; with
 * telemetry present, or in formats 1 and 2, the whole bundle is verified as by verifyBundle.
 */
export function verifyBundleStatement(
  cose: Uint8Array,
  resolveKey: KeyResolver,
  options: VerifyBundleOptions = {},
): VerifiedBundleStatement {
  const envelope = envelopeOf(cose, resolveKey, options);
  const digest = statementFormDigest(envelope);
  if (envelope.unprotected.size === 0) {
    const root = decodeCbor(envelope.payload);
    if (root instanceof Map && root.get(0) === 3) {
      return { envelope, statement: decodeBundleStatement(envelope.payload), digest, withTelemetry: false };
    }
  }
  const { bundle } = verifyBundle(cose, resolveKey, options);
  const { version, seq, prevHash, timeRange, timeSources, plots, devices, commitment } = bundle;
  const statement: BundleStatement = { version, seq, prevHash, timeRange, timeSources, plots, devices };
  if (commitment)
    statement.commitment = {
      telemetryDigest: commitment.telemetryDigest,
      leaves: commitment.leaves,
      root: commitment.root,
    };
  return { envelope, statement, digest, withTelemetry: true };
}

/**
 * The content of a bundle this node verified when it arrived and stored: re-reading stored
 * evidence without checking the signature again (format 3 with its telemetry, which the stored
 * bytes keep in the unprotected header). Never for bytes from outside: use verifyBundle.
 */
export function decodeStoredBundle(cose: Uint8Array): DecodedBundle {
  const root = decodeCbor(cose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 4 });
  const unprotected = Array.isArray(root) ? root[1] : undefined;
  const payload = Array.isArray(root) ? root[2] : undefined;
  if (!(payload instanceof Uint8Array))
    throw new MaverickError(ErrorCode.BundleMalformed, 'stored bundle has no attached payload');
  const telemetry = unprotected instanceof Map ? unprotected.get(COSE_LABEL.telemetry) : undefined;
  return decodeBundlePayload(payload, telemetry instanceof Uint8Array ? { telemetry } : {});
}
