/**
 * Issue 14 acceptance: the Merkle trees and inclusion proofs of a test pack verify with
 * independent verifiers in Python (hashlib + Debian's cbor2 / cryptography, run in CI):
 * test/fixtures/verify_proof.py checks the pack's period statement and its receipt for the
 * disclosed leaves; test/fixtures/verify_pack.py reads the whole pack from EVIDENCE.md and
 * SAMPLING.md and refuses each tamper with its reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyToPem } from '../proto/bundle/pem.js';
import { decodePack, type EvidencePack, encodePack } from '../proto/evidence/pack.js';
import { sampleIndices } from '../proto/evidence/sampling.js';
import { decodeLeaf, encodeLeaf } from '../proto/proof/leaf.js';
import { buildEvidencePack } from '../regional/evidence.js';
import { DAY_MS } from './fixtures/bundle-simulated-day.js';
import { farmEvidenceRequest, farmPeriod, gatewayKey, regionalKey } from './fixtures/evidence-farm.js';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const fixtures = join(import.meta.dirname, 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'maverick-evidence-py-'));
const nonce = Uint8Array.from({ length: 24 }, (_, i) => (i * 31) & 0xff);
let period: ReturnType<typeof farmPeriod>;
let pack: Uint8Array;

beforeAll(() => {
  period = farmPeriod({ days: 20 });
  pack = buildEvidencePack(farmEvidenceRequest(period, nonce)).bytes;
  writeFileSync(join(dir, 'regional.pem'), publicKeyToPem(regionalKey.publicKey));
  writeFileSync(join(dir, 'gateway.pem'), publicKeyToPem(gatewayKey.publicKey));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]): { code: number | null; out: Record<string, unknown> } {
  const result = spawnSync(python, [join(fixtures, script), ...args], { encoding: 'utf8', timeout: 60_000 });
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    out = { stdout: result.stdout, stderr: result.stderr };
  }
  return { code: result.status, out };
}

function verifyPackPy(bytes: Uint8Array) {
  const file = join(dir, 'pack.cbor');
  writeFileSync(file, bytes);
  return run('verify_pack.py', [file, '--regional-key', join(dir, 'regional.pem')]);
}

describe('the pack checked by independent Python verifiers', () => {
  it('has python3 with cbor2 and cryptography', () => {
    // Fails loudly (not a skip) so CI without python3-cbor2 / python3-cryptography is noticed.
    expect(() => execFileSync(python, ['-c', 'import cbor2, cryptography'])).not.toThrow();
  });

  it("verify_proof.py accepts the pack's period statement and its receipt for the disclosed leaves", () => {
    const p = decodePack(pack);
    writeFileSync(join(dir, 'statement.cose'), p.statements[0] as Uint8Array);
    writeFileSync(join(dir, 'receipt.cose'), p.spotCheck?.receipts[0] as Uint8Array);
    const leafFiles = (p.spotCheck?.leaves ?? []).map((leaf, i) => {
      const file = join(dir, `leaf-${i}.cbor`);
      writeFileSync(file, leaf);
      return file;
    });
    const gatewayPem = join(dir, 'gateway.pem');
    const statement = run('verify_proof.py', ['period', join(dir, 'statement.cose'), '--pub', gatewayPem]);
    expect(statement.out).toMatchObject({ valid: true, leaves: period.leaves.length, from: period.fromDay });
    const receipt = run('verify_proof.py', [
      'receipt',
      join(dir, 'receipt.cose'),
      '--pub',
      gatewayPem,
      '--leaf',
      ...leafFiles,
    ]);
    expect(receipt.out).toMatchObject({
      valid: true,
      indices: sampleIndices(nonce, period.leaves.length, 20),
    });
    expect(receipt.out.root).toBe(statement.out.root);
  });

  it('verify_pack.py accepts the whole pack and draws the same records', () => {
    const { code, out } = verifyPackPy(pack);
    expect(out).toMatchObject({ valid: true, plot: 'plot-north', committedLeaves: period.leaves.length });
    expect(out.indices).toEqual(sampleIndices(nonce, period.leaves.length, 20));
    expect(code).toBe(0);
  });

  it('verify_pack.py takes a key rotated out after the statement was signed, and refuses one rotated out before', () => {
    // The regional node keeps a removed gateway key with the time it was removed: what it signed
    // before stays evidence, anything signed later is not.
    const rotated = (removedAt: number) => {
      const request = farmEvidenceRequest(period, nonce);
      request.keys = request.keys.map((k) => (k.role === 'gateway' ? { ...k, removedAt } : k));
      return buildEvidencePack(request).bytes;
    };
    expect(verifyPackPy(rotated((period.toDay + 30) * DAY_MS))).toMatchObject({
      code: 0,
      out: { valid: true },
    });
    expect(verifyPackPy(rotated((period.fromDay + 3) * DAY_MS))).toMatchObject({
      code: 1,
      out: { valid: false, reason: expect.stringMatching(/rotated-out key/) },
    });
  });

  it('verify_pack.py refuses a changed disclosed record and a sample that does not match the nonce', () => {
    const changed = decodePack(pack);
    const leaves = changed.spotCheck?.leaves as Uint8Array[];
    const { salt, record } = decodeLeaf(leaves[5] as Uint8Array);
    leaves[5] = encodeLeaf({ ...record, receivedAt: record.receivedAt + 1 }, salt);
    expect(verifyPackPy(encodePack(changed))).toMatchObject({
      code: 1,
      out: { valid: false, reason: expect.stringMatching(/does not reach the signed root/) },
    });
    const renonced = decodePack(pack);
    (renonced.spotCheck as NonNullable<EvidencePack['spotCheck']>).nonce = new Uint8Array(24).fill(1);
    expect(verifyPackPy(encodePack(renonced)).out).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/does not match the nonce/),
    });
  });
});
