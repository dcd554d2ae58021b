/**
 * `maverick bundle statement` signs a period statement from a real gateway data directory, and
 * `maverick bundle verify` checks period statements, receipts, daily commitments and format 3
 * statement forms as well as bundles; the Python verifier agrees on each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../gateway/store-access.js';
import { DailyCommitments } from '../kernel/db/commitments.js';
import { PeriodStatements } from '../kernel/db/period-statements.js';
import { loadGatewayKey } from '../kernel/keys/gateway-key.js';
import { decodeCbor } from '../proto/bundle/cbor-decode.js';
import { encodeTaggedCbor } from '../proto/bundle/cbor-encode.js';
import { leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import type { InclusionProof } from '../proto/proof/merkle.js';
import { encodeReceipt } from '../proto/proof/receipt.js';
import { sealedBundleDoc } from './fixtures/sealed-bundle-doc.js';
import { runCli } from './helpers/cli.js';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const verifier = join(import.meta.dirname, 'fixtures', 'verify_proof.py');
const DAY = 86_400_000;
const day0 = Date.UTC(2026, 2, 1) / DAY;
const at = (day: number, hour: number) => day * DAY + hour * 3_600_000;

let root: string;
let dataDir: string;
let pem: string;
const files: Record<string, string> = {};
/** The inclusion proof of bundle 2's leaf 3 in the period tree of days 0..1 (20 leaves of bundle 1 first). */
let proof: InclusionProof;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'maverick-proof-cli-'));
  dataDir = join(root, 'gw');
  expect((await runCli(['init', '--data-dir', dataDir, '--mqtt-password', 'secret-pass'])).code).toBe(0);
  pem = join(root, 'gateway.pem');
  expect((await runCli(['keys', 'export-public', '--data-dir', dataDir, '--out', pem])).code).toBe(0);
  const key = await loadGatewayKey(dataDir);
  const db = await openGatewayDatabase(dataDir);
  try {
    const docs = [
      sealedBundleDoc(key, 1, at(day0, 0), at(day0, 11), 20),
      sealedBundleDoc(key, 2, at(day0, 12), at(day0, 23), 20),
      sealedBundleDoc(key, 3, at(day0 + 1, 0), at(day0 + 1, 20), 20),
      sealedBundleDoc(key, 4, at(day0 + 2, 0), at(day0 + 2, 5), 5),
    ];
    await db.bundles.bulkInsert(docs);
    const claims = () => ({ iss: 'gw', sub: 'farm', iat: 1_780_000_000 });
    const commitment = await new DailyCommitments(db, key, claims).commitDay(day0);
    files.commitment = join(root, 'commitment.cose');
    await writeFile(files.commitment, commitment?.cose as Uint8Array);
    // Bundle 2 as the statement form (telemetry stripped) and one of its leaves with a receipt.
    const cose = new Uint8Array(Buffer.from(docs[1]?.cose as string, 'base64'));
    const [p, , payload, sig] = decodeCbor(cose, { topLevelTag: 18 }) as [
      Uint8Array,
      unknown,
      Uint8Array,
      Uint8Array,
    ];
    files.stripped = join(root, 'statement-2.cose');
    await writeFile(files.stripped, encodeTaggedCbor(18, [p, new Map(), payload, sig]));
    files.leaf = join(root, 'leaf.cbor');
    await writeFile(files.leaf, leavesOfBundle(cose, () => key.publicKey)?.leaves[3] as Uint8Array);
    const { tree } = await new PeriodStatements(db, key, claims).build(day0, day0 + 1);
    proof = tree.inclusionProof(23);
  } finally {
    await db.close();
  }
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function py(...args: string[]) {
  const r = spawnSync(python, [verifier, ...args], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('maverick bundle statement / verify (proofs)', () => {
  it('signs a closed range; refuses an open one; verify checks it, a receipt and a commitment', async () => {
    const statement = (to: string, out: string, ...more: string[]) =>
      runCli([
        'bundle',
        'statement',
        '--data-dir',
        dataDir,
        '--from',
        '2026-03-01',
        '--to',
        to,
        '--out',
        out,
        ...more,
      ]);
    const open = await statement('2026-03-03', join(root, 'open.cose'));
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/not closed yet/);

    const out = join(root, 'period.cose');
    const made = await statement('2026-03-02', out, '--json');
    expect(made.stderr).toBe('');
    expect(JSON.parse(made.stdout)).toMatchObject({ leaves: 60, days: 2 });
    const verified = await runCli(['bundle', 'verify', out, '--pub', pem, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: true,
      kind: 'period',
      leaves: 60,
      days: 2,
      period: ['2026-03-01', '2026-03-02'],
    });
    expect(py('period', out, '--pub', pem)).toMatchObject({ valid: true, leaves: 60, days: 2 });

    // A receipt for one record, checked by the CLI with the disclosed leaf, and by Python.
    const receipt = join(root, 'receipt.cose');
    await writeFile(receipt, encodeReceipt(new Uint8Array(readFileSync(out)), [proof]));
    const verify = (file: string, ...more: string[]) =>
      runCli(['bundle', 'verify', file, '--pub', pem, ...more]);
    const r = await verify(receipt, '--leaf', files.leaf as string, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, kind: 'receipt', proven: [23] });
    expect(py('receipt', receipt, '--pub', pem, '--leaf', files.leaf as string)).toMatchObject({
      valid: true,
      indices: [23],
    });
    const wrong = await verify(receipt, '--leaf', files.commitment as string);
    expect(wrong.code).not.toBe(0);

    const c = await verify(files.commitment as string, '--json');
    expect(JSON.parse(c.stdout)).toMatchObject({
      valid: true,
      kind: 'commitment',
      version: 2,
      leaves: 40,
      bundles: 2,
    });
    const s = await verify(files.stripped as string, '--json');
    expect(JSON.parse(s.stdout)).toMatchObject({
      valid: true,
      kind: 'bundle statement',
      version: 3,
      seq: 2,
      leaves: 20,
    });
  });
});
