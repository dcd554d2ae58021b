/**
 * Issue 14 acceptance: the Merkle trees, inclusion proofs and signatures of format 3 bundles,
 * daily commitments (version 2), period statements and receipts verify with an independent
 * verifier written from proto/proof/PROOF.md in Python with only hashlib and Debian's
 * cbor2 / cryptography (test/fixtures/verify_proof.py), and each tamper case is refused there too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyCommitment, type SealedBundleSummary } from '../kernel/bundle/daily-commitment.js';
import { type GatewayKey, generateGatewayKey, publicKeyPath } from '../kernel/keys/gateway-key.js';
import { bundleDigest, sealBundle } from '../proto/bundle/bundle.js';
import { decodeCbor } from '../proto/bundle/cbor-decode.js';
import { encodeCbor, encodeTaggedCbor } from '../proto/bundle/cbor-encode.js';
import { signCommitment } from '../proto/bundle/commitment.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { type BundleLeaves, dayLeavesOf, leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import { buildPeriod, signPeriodStatement } from '../proto/proof/period.js';
import { encodeReceipt } from '../proto/proof/receipt.js';
import { DAY_MS, DAY_START_MS, simulatedDay } from './fixtures/bundle-simulated-day.js';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const script = join(import.meta.dirname, 'fixtures', 'verify_proof.py');
const DAY0 = DAY_START_MS / DAY_MS;
const claims = { iss: 'gw-0016c001ff10a235', sub: 'farm:demo', iat: 1_763_700_000 };

let dir: string;
let key: GatewayKey;
let pem: string;
let otherPem: string;
const bundleFiles: string[] = [];
const commitmentFiles: string[] = [];
const bundles: BundleLeaves[] = [];
let periodFile: string;
let period: ReturnType<typeof buildPeriod>;
let periodCose: Uint8Array;

function run(...args: string[]): { status: number | null; out: Record<string, unknown> } {
  const result = spawnSync(python, [script, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (result.stderr) throw new Error(`verifier crashed: ${result.stderr}`);
  return { status: result.status, out: JSON.parse(result.stdout) as Record<string, unknown> };
}

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-pyproof-'));
  key = await generateGatewayKey(join(dir, 'data'));
  pem = publicKeyPath(join(dir, 'data'), toHex(key.kid));
  const other = await generateGatewayKey(join(dir, 'other'));
  otherPem = publicKeyPath(join(dir, 'other'), toHex(other.kid));
  // Three days, two bundles a day (half a day each), chained.
  let prevHash: Uint8Array = GENESIS_PREV_HASH;
  const summaries: SealedBundleSummary[] = [];
  for (let d = 0; d < 3; d++) {
    const day = simulatedDay({ seed: 100 + d, devices: 4 }).map((u) => ({
      ...u,
      receivedAt: u.receivedAt + d * DAY_MS,
    }));
    for (let half = 0; half < 2; half++) {
      const from = DAY_START_MS + d * DAY_MS + half * (DAY_MS / 2);
      const uplinks = day
        .filter((u) => u.receivedAt >= from && u.receivedAt < from + DAY_MS / 2)
        .map((u) => ({ ...u, plotId: null }));
      // Format 3: the time range is exactly the first and last reception.
      const start = Math.min(...uplinks.map((u) => u.receivedAt));
      const end = Math.max(...uplinks.map((u) => u.receivedAt));
      const seq = d * 2 + half + 1;
      const sealed = sealBundle(
        { seq, prevHash, timeRange: { start, end }, plots: [], uplinks, compress: true },
        key,
        claims,
      );
      prevHash = sealed.digest;
      bundleFiles.push(await file(`bundle-${seq}.cose`, sealed.cose));
      const leaves = leavesOfBundle(sealed.cose, () => key.publicKey) as BundleLeaves;
      bundles.push(leaves);
      summaries.push({
        seq,
        digest: sealed.digest,
        uplinks: leaves.leaves.length,
        timeRange: { start, end },
        timeSources: { gps: leaves.leaves.length, ntp: 0, 'host-unsynced': 0 },
        leafHashes: leaves.leafHashes,
      });
    }
    commitmentFiles.push(
      await file(`commitment-${d}.cose`, signCommitment(dailyCommitment(DAY0 + d, summaries), key, claims)),
    );
  }
  period = buildPeriod(DAY0, DAY0 + 2, dayLeavesOf(bundles));
  periodCose = signPeriodStatement(period.statement, key, claims);
  periodFile = await file('period.cose', periodCose);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('independent proof verification in Python (hashlib + cbor2 + cryptography)', () => {
  it('rebuilds a format 3 bundle’s leaves, Merkle root and telemetry digest; its statement form verifies alone', async () => {
    const ok = run('bundle', bundleFiles[0] as string, '--pub', pem);
    expect(ok.status).toBe(0);
    expect(ok.out).toMatchObject({
      valid: true,
      version: 3,
      seq: 1,
      withTelemetry: true,
      leaves: bundles[0]?.leaves.length,
    });
    const [p, , payload, sig] = decodeCbor(new Uint8Array(readFileSync(bundleFiles[0])), {
      topLevelTag: 18,
    }) as [Uint8Array, unknown, Uint8Array, Uint8Array];
    const stripped = await file('stripped.cose', encodeTaggedCbor(18, [p, new Map(), payload, sig]));
    const alone = run('bundle', stripped, '--pub', pem);
    expect(alone.out).toMatchObject({ valid: true, withTelemetry: false, digest: ok.out.digest });
    expect(ok.out.digest).toBe(toHex(bundleDigest(new Uint8Array(readFileSync(bundleFiles[0])))));
    // Python's leaves are byte for byte ours.
    const listed = run('leaves', bundleFiles[0] as string, '--pub', pem).out.leafList as { leaf: string }[];
    expect(listed.map((l) => l.leaf)).toEqual(bundles[0]?.leaves.map(toHex));
  });

  it('checks a version 2 commitment against its day’s bundles (digest and day root)', () => {
    const ok = run(
      'commitment',
      commitmentFiles[1] as string,
      '--pub',
      pem,
      '--bundles',
      ...bundleFiles.slice(2, 4),
    );
    expect(ok.out).toMatchObject({ valid: true, version: 2, day: DAY0 + 1, checkedBundles: 2 });
    const wrongDay = run(
      'commitment',
      commitmentFiles[1] as string,
      '--pub',
      pem,
      '--bundles',
      ...bundleFiles.slice(0, 2),
    );
    expect(wrongDay.out).toMatchObject({ valid: false });
  });

  it('checks a period statement against the commitments (days root) and the bundles (period root)', () => {
    const ok = run(
      'period',
      periodFile,
      '--pub',
      pem,
      '--commitments',
      ...commitmentFiles,
      '--bundles',
      ...bundleFiles,
    );
    expect(ok.status).toBe(0);
    expect(ok.out).toMatchObject({
      valid: true,
      from: DAY0,
      to: DAY0 + 2,
      leaves: period.statement.leaves,
      days: 3,
      checkedCommitments: 3,
      checkedLeaves: period.statement.leaves,
      root: toHex(period.statement.root),
    });
    // A commitment of a day outside the period is refused.
    const narrow = signPeriodStatement(
      buildPeriod(DAY0, DAY0 + 1, dayLeavesOf(bundles.slice(0, 4))).statement,
      key,
      claims,
    );
    return file('narrow.cose', narrow).then((narrowFile) => {
      const out = run('period', narrowFile, '--pub', pem, '--commitments', ...commitmentFiles);
      expect(out.out).toMatchObject({ valid: false, reason: expect.stringMatching(/outside the period/) });
    });
  });

  it('verifies a receipt for sampled records, and refuses each tamper with its reason', async () => {
    const all = bundles.flatMap((b) => b.leaves);
    const picks = [0, 17, all.length - 1];
    const receipt = await file(
      'receipt.cose',
      encodeReceipt(
        periodCose,
        picks.map((i) => period.tree.inclusionProof(i)),
      ),
    );
    const leafFiles = await Promise.all(picks.map((i) => file(`leaf-${i}.cbor`, all[i] as Uint8Array)));
    const ok = run('receipt', receipt, '--pub', pem, '--leaf', ...leafFiles);
    expect(ok.out).toMatchObject({ valid: true, indices: picks, root: toHex(period.statement.root) });

    // A changed disclosed record (one reading off by one).
    const record = decodeCbor(all[17] as Uint8Array) as unknown[];
    ((record[7] as unknown[][])[0] as number[])[2] =
      (((record[7] as unknown[][])[0] as number[])[2] as number) + 1;
    const changed = await file('changed.cbor', encodeCbor(record as never));
    expect(
      run('receipt', receipt, '--pub', pem, '--leaf', leafFiles[0] as string, changed, leafFiles[2] as string)
        .out,
    ).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/another root/),
    });
    // A proof for another leaf: the leaves in the wrong order.
    expect(
      run(
        'receipt',
        receipt,
        '--pub',
        pem,
        '--leaf',
        leafFiles[1] as string,
        leafFiles[0] as string,
        leafFiles[2] as string,
      ).out,
    ).toMatchObject({ valid: false });
    // A single proof against the wrong leaf fails the signature.
    const single = await file('single.cose', encodeReceipt(periodCose, [period.tree.inclusionProof(17)]));
    expect(run('receipt', single, '--pub', pem, '--leaf', leafFiles[0] as string).out).toMatchObject({
      valid: false,
      reason: 'signature does not verify',
    });
    // Wrong tree size in the proof.
    const [p, u, , sig] = decodeCbor(new Uint8Array(readFileSync(single)), { topLevelTag: 18 }) as [
      Uint8Array,
      Map<number, Map<number, Uint8Array[]>>,
      null,
      Uint8Array,
    ];
    const proof = decodeCbor(
      ((u.get(396) as Map<number, Uint8Array[]>).get(-1) as Uint8Array[])[0] as Uint8Array,
    ) as unknown[];
    const resized = encodeTaggedCbor(18, [
      p,
      new Map([
        [396, new Map([[-1, [encodeCbor([(proof[0] as number) + 1, proof[1], proof[2]] as never)]]])],
      ]),
      null,
      sig,
    ]);
    expect(
      run('receipt', await file('resized.cose', resized), '--pub', pem, '--leaf', leafFiles[1] as string).out,
    ).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/tree of/),
    });
    // An unregistered key.
    expect(run('receipt', receipt, '--pub', otherPem, '--leaf', ...leafFiles).out).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/unregistered key/),
    });
  });
});
