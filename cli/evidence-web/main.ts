/**
 * The self-contained evidence verifier page: reads a dropped pack and runs the same core as
 * `maverick evidence verify` (proto/evidence/verify.ts). Everything it shows is set as text,
 * never parsed as HTML, so a hostile pack cannot inject markup.
 */
import { fromHex } from '../../proto/evidence/hash.js';
import { reportMarkdown } from '../../proto/evidence/report.js';
import { verifyPack } from '../../proto/evidence/verify.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const drop = byId<HTMLDivElement>('drop');
const input = byId<HTMLInputElement>('file');
const pin = byId<HTMLInputElement>('pin');
const verdict = byId<HTMLHeadingElement>('verdict');
const list = byId<HTMLUListElement>('checks');
const report = byId<HTMLPreElement>('report');

function pinnedKey(): Uint8Array | undefined {
  const text = pin.value.trim();
  if (!text) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? fromHex(text) : undefined;
  if (!key) throw new Error('the pinned key must be 64 hex digits (the raw Ed25519 public key)');
  return key;
}

function show(name: string, bytes: Uint8Array): void {
  list.replaceChildren();
  try {
    const key = pinnedKey();
    const v = verifyPack(bytes, key ? { regionalKey: key } : {});
    verdict.dataset.valid = String(v.ok);
    const failures = v.checks.filter((c) => !c.ok).length;
    verdict.textContent = v.ok
      ? `VALID: ${name}, all ${v.checks.length} checks hold`
      : `INVALID: ${name}, ${failures} of ${v.checks.length} checks fail`;
    for (const c of v.checks) {
      const li = document.createElement('li');
      li.className = c.ok ? 'pass' : 'fail';
      li.textContent = `${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`;
      list.append(li);
    }
    report.textContent = reportMarkdown(v);
  } catch (err) {
    verdict.dataset.valid = 'false';
    verdict.textContent = `INVALID: ${name}: ${(err as Error).message}`;
    report.textContent = '';
  }
}

async function open(file: File): Promise<void> {
  show(file.name, new Uint8Array(await file.arrayBuffer()));
}

input.addEventListener('change', () => {
  const file = input.files?.[0];
  if (file) void open(file);
});
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void open(file);
});
