/**
 * Fuzz targets for the evidence formats (bundles of every format, commitments, period statements,
 * receipts, disclosed leaves): their seeds are signed by a throwaway gateway key. Split from
 * targets.ts, which spreads them into the one list the runner uses.
 */
import { verifyBundle, verifyBundleStatement } from '../../proto/bundle/bundle.js';
import { decodeCbor } from '../../proto/bundle/cbor-decode.js';
import { encodeTaggedCbor } from '../../proto/bundle/cbor-encode.js';
import { signCommitment, verifyCommitment } from '../../proto/bundle/commitment.js';
import { decodeBundlePayload, encodeBundlePayload } from '../../proto/bundle/payload.js';
import { GENESIS_PREV_HASH } from '../../proto/bundle/types.js';
import { type BundleLeaves, leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { decodeLeaf } from '../../proto/proof/leaf.js';
import { buildPeriod, signPeriodStatement, verifyPeriodStatement } from '../../proto/proof/period.js';
import { encodeReceipt, verifyReceipt } from '../../proto/proof/receipt.js';
import { makeBundle, testGateway } from '../../test/fixtures/bundle-chain.js';
import { DAY_START_MS, plotReferences, simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import type { FuzzTarget } from './targets.js';

const gw = testGateway('gw-fuzz');
const resolveKey = (): Uint8Array => gw.publicKey;
const bundles = [1, 2].map((seq) => makeBundle(gw, seq, GENESIS_PREV_HASH).cose);
const payloads = [false, true].map((compress) =>
  encodeBundlePayload({
    seq: 1,
    prevHash: GENESIS_PREV_HASH,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + 3_600_000 },
    plots: plotReferences(true),
    uplinks: simulatedDay({ devices: 2 }).filter((u) => u.receivedAt <= DAY_START_MS + 3_600_000),
    compress,
  }),
);
const commitment = signCommitment(
  {
    day: 20_000,
    seqFirst: 1,
    seqLast: 24,
    digest: new Uint8Array(32).fill(3),
    bundles: 24,
    uplinks: 960,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + 86_399_999 },
    timeSources: { gps: 900, ntp: 60, 'host-unsynced': 0 },
  },
  gw,
  { iss: gw.id, sub: 'farm', iat: 1_780_000_000 },
);

// Proofs (proto/proof/PROOF.md): a period over the two fuzz bundles, a receipt, a leaf, a statement form.
const bundleLeaves = bundles.map((b) => leavesOfBundle(b, resolveKey) as BundleLeaves);
const period = buildPeriod(20_000, 20_000, [
  { day: 20_000, leafHashes: bundleLeaves.flatMap((b) => b.leafHashes) },
]);
const periodStatement = signPeriodStatement(period.statement, gw, {
  iss: gw.id,
  sub: 'farm',
  iat: 1_780_000_000,
});
const receipt = encodeReceipt(periodStatement, [
  period.tree.inclusionProof(3),
  period.tree.inclusionProof(0),
]);
const receiptLeaves = [bundleLeaves[0]?.leaves[3], bundleLeaves[0]?.leaves[0]] as Uint8Array[];
const statementForm = (() => {
  const [p, , payload, sig] = decodeCbor(bundles[0] as Uint8Array, { topLevelTag: 18 }) as Uint8Array[];
  return encodeTaggedCbor(18, [p as Uint8Array, new Map(), payload as Uint8Array, sig as Uint8Array]);
})();

export const evidenceTargets: FuzzTarget[] = [
  {
    name: 'cbor',
    about: 'deterministic CBOR (decodeCbor)',
    seeds: [...payloads.slice(0, 1), bundles[0]!],
    maxRandomBytes: 300,
    call: (b) => decodeCbor(b),
  },
  {
    name: 'bundle',
    about: 'signed bundles (verifyBundle: COSE_Sign1, Ed25519, payload)',
    seeds: bundles,
    maxRandomBytes: 300,
    call: (b) => verifyBundle(b, resolveKey),
  },
  {
    name: 'bundle-payload',
    about: 'bundle payload behind a valid signature (decodeBundlePayload, plain and deflated)',
    seeds: payloads,
    maxRandomBytes: 300,
    call: (b) => decodeBundlePayload(b, { maxInflatedBytes: 1 << 20 }),
  },
  {
    name: 'commitment',
    about: 'daily commitments (verifyCommitment)',
    seeds: [commitment],
    maxRandomBytes: 340,
    call: (b) => verifyCommitment(b, resolveKey),
  },
  {
    name: 'bundle-statement',
    about: 'format 3 statement forms, telemetry stripped (verifyBundleStatement)',
    seeds: [statementForm],
    maxRandomBytes: 600,
    call: (b) => verifyBundleStatement(b, resolveKey),
  },
  {
    name: 'period-statement',
    about: 'period statements (verifyPeriodStatement)',
    seeds: [periodStatement],
    maxRandomBytes: 340,
    call: (b) => verifyPeriodStatement(b, resolveKey),
  },
  {
    name: 'receipt',
    about: 'COSE Receipts, RFC9162_SHA256 (verifyReceipt with two disclosed leaves)',
    seeds: [receipt],
    maxRandomBytes: 600,
    call: (b) => verifyReceipt(b, receiptLeaves, resolveKey),
  },
  {
    name: 'proof-leaf',
    about: 'disclosed record leaves (decodeLeaf)',
    seeds: receiptLeaves,
    maxRandomBytes: 200,
    call: (b) => decodeLeaf(b),
  },
];
