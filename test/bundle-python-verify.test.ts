/**
 * Acceptance 1: a bundle verifies with an independent verifier, Debian's
 * python3-cbor2 + python3-cryptography (test/fixtures/verify_bundle.py),
 * using the PEM public key exactly as `maverick keys export-public` writes it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateGatewayKey, publicKeyPath } from '../kernel/keys/gateway-key.js';
import { signBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { decodeBundlePayload, deviceSummaryJson, encodeBundlePayload } from '../proto/bundle/payload.js';
import { GENESIS_PREV_HASH, type UplinkRecord } from '../proto/bundle/types.js';
import { DAY_MS, DAY_START_MS, plotReferences, simulatedDay } from './fixtures/bundle-simulated-day.js';

// Debian's interpreter, where apt installs python3-cbor2 / python3-cryptography (a pyenv shim may shadow it).
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const script = join(import.meta.dirname, 'fixtures', 'verify_bundle.py');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-pyverify-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runVerifier(
  bundlePath: string,
  pemPath: string,
): { status: number | null; out: Record<string, unknown> } {
  const result = spawnSync(python, [script, bundlePath, pemPath], { encoding: 'utf8', timeout: 30_000 });
  if (result.stderr) throw new Error(`verifier crashed: ${result.stderr}`);
  return { status: result.status, out: JSON.parse(result.stdout) as Record<string, unknown> };
}

describe('independent verification in Python (cbor2 + cryptography)', () => {
  it('has the Debian modules available', () => {
    // Fails loudly (not a skip) so CI without python3-cbor2 / python3-cryptography is noticed.
    expect(() => execFileSync(python, ['-c', 'import cbor2, cryptography'])).not.toThrow();
  });

  it('verifies a signed day bundle and reads its claims and payload, and refuses a tampered copy', async () => {
    const key = await generateGatewayKey(join(dir, 'data'));
    const payload = encodeBundlePayload({
      seq: 3,
      prevHash: GENESIS_PREV_HASH,
      timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
      plots: plotReferences(true),
      uplinks: simulatedDay(),
      compress: true,
    });
    const cose = signBundle(payload, key, {
      iss: 'gw-0016c001ff10a235',
      sub: 'farm:demo',
      iat: 1_763_700_000,
    });
    const bundlePath = join(dir, 'bundle-3.cose');
    await writeFile(bundlePath, cose);
    const pemPath = publicKeyPath(join(dir, 'data'), toHex(key.kid));

    const ok = runVerifier(bundlePath, pemPath);
    expect(ok.status).toBe(0);
    expect(ok.out).toMatchObject({
      valid: true,
      alg: -8,
      kid: toHex(key.kid),
      contentType: 'application/vnd.maverick.bundle+cbor',
      iss: 'gw-0016c001ff10a235',
      sub: 'farm:demo',
      iat: 1_763_700_000,
      version: 2,
      seq: 3,
      prevHash: '00'.repeat(32),
      timeRange: [DAY_START_MS, DAY_START_MS + DAY_MS - 1],
    });

    // The verifier recomputes every device's summary from the telemetry and found the signed one equal.
    const decoded = decodeBundlePayload(payload);
    expect(ok.out.devices).toEqual(decoded.devices.map(deviceSummaryJson));

    const tampered = new Uint8Array(await readFile(bundlePath));
    tampered[tampered.length - 100] = (tampered[tampered.length - 100] as number) ^ 0x01;
    await writeFile(bundlePath, tampered);
    const bad = runVerifier(bundlePath, pemPath);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatchObject({ valid: false });
  });

  it('reads the sessions of a format 2 bundle and still verifies a format 1 bundle', async () => {
    const key = await generateGatewayKey(join(dir, 'data'));
    const pemPath = publicKeyPath(join(dir, 'data'), toHex(key.kid));
    const dev = Uint8Array.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
    const row = (session: number, fCnt: number, at: number): UplinkRecord => ({
      devEui: dev,
      plotId: null,
      fCnt,
      session,
      receivedAt: DAY_START_MS + at,
      timeSource: 'gps',
      readings: [{ field: 't', scale: -1, value: 200 + at }],
    });
    const rejoined = [row(0, 0, 1), row(0, 1, 2), row(0, 3, 3), row(1, 0, 4), row(1, 1, 5), row(2, 0, 6)];
    const cases: [1 | 2, UplinkRecord[]][] = [
      [2, rejoined],
      [
        1,
        simulatedDay()
          .slice(0, 50)
          .map((u) => ({ ...u, session: 0 })),
      ],
    ];
    for (const [version, uplinks] of cases) {
      const payload = encodeBundlePayload({
        seq: 1,
        prevHash: GENESIS_PREV_HASH,
        timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
        plots: version === 1 ? plotReferences(true) : [],
        uplinks,
        compress: version === 2,
        version,
      });
      const path = join(dir, `v${version}.cose`);
      await writeFile(path, signBundle(payload, key, { iss: 'gw-1', sub: 'farm:demo', iat: 1_763_700_000 }));
      const result = runVerifier(path, pemPath);
      expect(result.status).toBe(0);
      expect(result.out.version).toBe(version);
      if (version === 2) {
        expect(result.out.devices).toEqual([
          {
            devEui: '0011223344556677',
            plotId: null,
            uplinks: 6,
            fCnt: [0, 0],
            missingFCnt: [[2, 2]],
            counterResets: 0,
            sessions: [
              { session: 0, uplinks: 3, fCnt: [0, 3] },
              { session: 1, uplinks: 2, fCnt: [0, 1] },
              { session: 2, uplinks: 1, fCnt: [0, 0] },
            ],
          },
        ]);
      }
    }
  });
});
