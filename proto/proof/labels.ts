/**
 * COSE header labels and content types of Maverick's proofs (PROOF.md). 394–396 and the
 * inclusion-proof key −1 are RFC 9942's; labels below −65536 are private use (RFC 9052 §16.2),
 * which is where Maverick's own unsigned telemetry and signed period parameters live.
 */
export const COSE_LABEL = {
  /** RFC 9942 §2: verifiable data structure (protected). */
  vds: 395,
  /** RFC 9942 §2: verifiable data structure proofs (unprotected). */
  vdp: 396,
  /** Bundle format 3: the deflated telemetry, detached from the signed statement (unprotected). */
  telemetry: -65537,
  /** Period statement: [from day, to day, leaves, days, days root] (protected). */
  period: -65538,
} as const;

/** RFC 9942 §5.1: the RFC9162_SHA256 verifiable data structure. */
export const VDS_RFC9162_SHA256 = 1;
/** RFC 9942 §4: key of inclusion proofs inside the vdp map. */
export const VDP_INCLUSION_PROOFS = -1;

export const PERIOD_CONTENT_TYPE = 'application/vnd.maverick.period+cbor';
