/**
 * The bundle payload (BUNDLE.md §3): a core-deterministic CBOR map with
 * integer keys. The encoder derives every summary (time sources, per-device
 * counts, FCnt gaps) from the uplinks (payload-build.ts), so summaries cannot
 * disagree with the telemetry; the decoder (payload-decode.ts) builds the
 * payload again from what it decoded, so a payload is accepted only in the one
 * byte form its content has.
 */
import { type CborMap, encodeCbor } from './cbor-encode.js';
import { deflate } from './deflate.js';
import { buildPayload, payloadMalformed as malformed, PayloadKey } from './payload-build.js';
import type { BundleCommitment, BundleContent } from './types.js';

export { deviceSummaryJson, summarizeDevices } from './device-summaries.js';
export { PayloadKey, StatementKey } from './payload-build.js';
export { type DecodePayloadOptions, decodeBundlePayload, payloadFormat } from './payload-decode.js';

/** Deterministic payload bytes of a format 1 or 2 bundle: same content (in any input order), same bytes. */
export function encodeBundlePayload(content: BundleContent): Uint8Array {
  if (content.version === 3) {
    throw malformed('a format 3 payload is a statement with detached telemetry: use encodeBundleStatement');
  }
  const { map, telemetry, telemetryBytes } = buildPayload(content);
  // The uncompressed block is embedded as the map itself; the compressed one as a bstr.
  map.set(
    PayloadKey.telemetry,
    content.compress ? deflate(telemetryBytes as Uint8Array) : (telemetry as CborMap),
  );
  return encodeCbor(map);
}

export interface BundleStatementParts {
  /** The statement: the signed payload of a format 3 bundle. */
  statement: Uint8Array;
  /** Raw deflate of the telemetry block: what travels under COSE unprotected label -65537. */
  telemetry: Uint8Array;
  commitment: BundleCommitment;
}

/**
 * A format 3 bundle's statement and detached telemetry (PROOF.md §3). Deterministic for a given
 * content and seed; the seed (random per bundle, `newSaltSeed`) goes into the telemetry.
 */
export function encodeBundleStatement(content: BundleContent, saltSeed: Uint8Array): BundleStatementParts {
  const { map, telemetryBytes, commitment } = buildPayload({ ...content, version: 3 }, { saltSeed });
  return {
    statement: encodeCbor(map),
    telemetry: deflate(telemetryBytes as Uint8Array),
    commitment: commitment as BundleCommitment,
  };
}
