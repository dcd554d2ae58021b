/** The compliance-bundle profile: format, envelope, keys (see BUNDLE.md and bundle.cddl). */
export {
  BUNDLE_CONTENT_TYPE,
  bundleDigest,
  signBundle,
  type VerifiedBundle,
  type VerifyBundleOptions,
  verifyBundle,
} from './bundle.js';
export { decodeCbor } from './cbor-decode.js';
export { type CborMap, type CborValue, encodeCbor } from './cbor-encode.js';
export {
  COMMITMENT_CONTENT_TYPE,
  COMMITMENT_MAX_BYTES,
  commitmentDigest,
  type DailyCommitment,
  signCommitment,
  verifyCommitment,
} from './commitment.js';
export {
  ALG_ED25519,
  ALG_EDDSA,
  type BundleClaims,
  type KeyResolver,
  type SigningKey,
  type VerifiedSign1,
} from './cose.js';
export { ed25519Sign, ed25519Verify, keyIdOf, publicKeyOf, toHex } from './ed25519.js';
export { decodeBundlePayload, deviceSummaryJson, encodeBundlePayload, summarizeDevices } from './payload.js';
export { publicKeyFromPem, publicKeyToPem } from './pem.js';
export { plotDefinitionFromGeoJson, plotDefinitionHash } from './plots.js';
export * from './types.js';
