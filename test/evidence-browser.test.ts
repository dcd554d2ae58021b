/**
 * Issue 14 acceptance: the self-contained HTML verifier, opened from a file in headless
 * Chromium (Debian's, driven by playwright-core) with every network request refused, shows a
 * valid pack as valid and a tampered one as invalid, naming the failed check.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePack, encodePack } from '../proto/evidence/pack.js';
import { decodeLeaf, encodeLeaf } from '../proto/proof/leaf.js';
import { buildEvidencePack } from '../regional/evidence.js';
import { farmEvidenceRequest, farmPeriod } from './fixtures/evidence-farm.js';
import { CHROMIUM, SCREENSHOTS } from './helpers/browser.js';
import { projectRoot } from './helpers/cli.js';

const page = join(projectRoot, 'dist', 'evidence-verifier.html');
const profile = mkdtempSync(join(tmpdir(), 'maverick-evidence-chromium-'));
let browser: Browser;
let tab: Page;
let valid: Uint8Array;
const requests: string[] = [];

beforeAll(async () => {
  // The page as `npm run build` makes it, rebuilt here so the test never reads a stale one.
  execFileSync(process.execPath, [join(projectRoot, 'scripts', 'build-evidence-page.mjs')], {
    cwd: projectRoot,
  });
  const period = farmPeriod({ days: 7 });
  valid = buildEvidencePack(farmEvidenceRequest(period, new Uint8Array(16).fill(3))).bytes;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ serviceWorkers: 'block' });
  // No network: every request but the page file itself is refused, and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  tab = await context.newPage();
  await tab.goto(pathToFileURL(page).href);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

async function verdictFor(
  name: string,
  bytes: Uint8Array,
): Promise<{ valid: string | null; text: string; failed: string[] }> {
  await tab.setInputFiles('#file', { name, mimeType: 'application/cbor', buffer: Buffer.from(bytes) });
  // A locator wait, not waitForFunction: a string predicate is polled through eval, which the
  // page's Content-Security-Policy (script-src without 'unsafe-eval') refuses whenever the verdict
  // is not there on the first look (a loaded CI machine).
  await tab.locator('#verdict', { hasText: name }).waitFor({ timeout: 30_000 });
  return {
    valid: await tab.getAttribute('#verdict', 'data-valid'),
    text: (await tab.textContent('#verdict')) ?? '',
    failed: await tab.$$eval('#checks li.fail', (items) => items.map((i) => i.textContent ?? '')),
  };
}

describe('the HTML evidence verifier in Chromium, offline', () => {
  it('shows a valid pack as valid', async () => {
    const v = await verdictFor('valid.pack', valid);
    expect(v.valid).toBe('true');
    expect(v.text).toMatch(/^VALID/);
    expect(v.failed).toEqual([]);
    expect(await tab.textContent('#report')).toMatch(/Spot check: records the nonce drew/);
    await tab.screenshot({ path: join(SCREENSHOTS, 'evidence-valid.png'), fullPage: true });
  });

  it('shows a pack with a changed disclosed record as invalid, naming the proof that fails', async () => {
    const p = decodePack(valid);
    const leaves = p.spotCheck?.leaves as Uint8Array[];
    const { salt, record } = decodeLeaf(leaves[0] as Uint8Array);
    leaves[0] = encodeLeaf({ ...record, fCnt: record.fCnt + 1 }, salt);
    const v = await verdictFor('tampered.pack', encodePack(p));
    expect(v.valid).toBe('false');
    expect(v.text).toMatch(/^INVALID/);
    expect(v.failed).toEqual([expect.stringMatching(/^FAIL record 1 proof/)]);
  });

  it('shows bytes that are not a pack as invalid', async () => {
    const v = await verdictFor('garbage.pack', new Uint8Array([1, 2, 3]));
    expect(v.valid).toBe('false');
  });

  it('made no network request', () => {
    expect(requests).toEqual([]);
  });
});
