/**
 * The regional node end to end through the `maverick` CLI (in-process, on the
 * durable SQLite storage): export a gateway public key, verify bundle files
 * with it, register the gateway, ingest (and re-ingest) bundles, export EUDR
 * GeoJSON with its verification report.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.js';
import { Sealer } from '../kernel/bundle/sealer.js';
import { FileSequenceStore } from '../kernel/bundle/sequence-store.js';
import { generateGatewayKey } from '../kernel/keys/gateway-key.js';
import { fixturePlots, MemoryUplinks } from './fixtures/bundle-memory-sealer.js';
import { DAY_START_MS, simulatedDay } from './fixtures/bundle-simulated-day.js';

let dir: string;
let stdout: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-regional-cli-'));
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  stdout = [];
  process.exitCode = undefined;
  const code = await main(argv);
  return { code, out: stdout.join('') };
}

describe('maverick bundle verify / regional', () => {
  it('verifies, registers, ingests, de-duplicates and exports', async () => {
    const gwDir = join(dir, 'gateway');
    const regionalDir = join(dir, 'regional');
    const key = await generateGatewayKey(gwDir);
    const uplinks = new MemoryUplinks();
    const day = simulatedDay();
    const sealer = new Sealer({
      source: uplinks,
      sink: uplinks,
      sequences: new FileSequenceStore(gwDir),
      plots: fixturePlots,
      key,
      gatewayId: 'gw-cli',
      scope: 'farm:demo',
    });
    uplinks.add(day.slice(0, 480));
    await sealer.sealNow();
    uplinks.add(day.slice(480));
    await sealer.sealNow();
    const files = [];
    for (const b of uplinks.commits) {
      const file = join(dir, `bundle-${b.seq}.cose`);
      await writeFile(file, b.cose);
      files.push(file);
    }
    const pem = join(dir, 'gw.pem');
    expect((await run('keys', 'export-public', '--data-dir', gwDir, '--out', pem)).code).toBe(0);

    const verified = await run('bundle', 'verify', files[0] as string, '--pub', pem, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ valid: true, seq: 1, gateway: 'gw-cli', uplinks: 480 });
    expect((await run('bundle', 'verify', files[1] as string, '--pub', pem)).out).toMatch(
      /^VALID bundle 2 from gw-cli/,
    );

    const tampered = new Uint8Array(await readFile(files[0] as string));
    tampered[200] = (tampered[200] as number) ^ 0x10;
    await writeFile(join(dir, 'bad.cose'), tampered);
    expect((await run('bundle', 'verify', join(dir, 'bad.cose'), '--pub', pem)).code).toBe(1);

    expect(
      (await run('regional', 'gateway', 'add', '--data-dir', regionalDir, '--id', 'gw-cli', '--pub', pem))
        .code,
    ).toBe(0);
    expect((await run('regional', 'gateway', 'list', '--data-dir', regionalDir)).out).toContain('gw-cli');

    const ingested = await run('regional', 'ingest', '--data-dir', regionalDir, ...files);
    expect(ingested.code).toBe(0);
    expect(
      ingested.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).status),
    ).toEqual(['accepted', 'accepted']);
    const again = await run(
      'regional',
      'ingest',
      '--data-dir',
      regionalDir,
      files[1] as string,
      join(dir, 'bad.cose'),
    );
    expect(
      again.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).status),
    ).toEqual(['duplicate', 'rejected']);
    expect(again.code).toBe(1);

    const out = join(dir, 'north.geojson');
    const report = join(dir, 'north-report.json');
    const exported = await run(
      'regional',
      'export',
      '--data-dir',
      regionalDir,
      '--plot',
      'plot-north',
      '--from',
      new Date(DAY_START_MS).toISOString(),
      '--to',
      new Date(DAY_START_MS + 86_399_999).toISOString(),
      '--out',
      out,
      '--report',
      report,
    );
    expect(exported.code).toBe(0);
    const geojson = JSON.parse(await readFile(out, 'utf8'));
    expect(geojson.type).toBe('FeatureCollection');
    expect(geojson.features[0].geometry.type).toBe('Polygon');
    const rep = JSON.parse(await readFile(report, 'utf8'));
    expect(rep.allBundlesValid).toBe(true);
    expect(rep.bundles.map((b: { seq: number }) => b.seq)).toEqual([1, 2]);

    // `--to` is inclusive: a bare day as both ends is that whole day, its uplinks all there.
    const dayText = new Date(DAY_START_MS).toISOString().slice(0, 10);
    const exportDay = async (name: string) => {
      const exported = await run(
        ...['regional', 'export', '--data-dir', regionalDir, '--plot', 'plot-north'],
        ...['--from', dayText, '--to', dayText, '--out', join(dir, `${name}.geojson`)],
        ...['--report', join(dir, `${name}.json`)],
      );
      expect(exported.code).toBe(0);
      return JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8'));
    };
    const dayRep = await exportDay('north-day');
    expect(rep.uplinks).toBeGreaterThan(0);
    expect(dayRep.uplinks).toBe(rep.uplinks);
    expect(dayRep.period.to).toBe(`${dayText}T23:59:59.999Z`);

    // The key is rotated out: nothing new is taken under it, what it signed stays evidence.
    const kid = (await run('regional', 'gateway', 'list', '--data-dir', regionalDir)).out.split('\t')[1]!;
    expect(kid).toMatch(/^[0-9a-f]{16}$/);
    expect((await run('regional', 'gateway', 'remove', '--data-dir', regionalDir, '--kid', kid)).code).toBe(
      0,
    );
    expect((await run('regional', 'gateway', 'list', '--data-dir', regionalDir)).out).toBe('');
    expect((await run('regional', 'gateway', 'list', '--data-dir', regionalDir, '--all')).out).toMatch(
      new RegExp(`^gw-cli\t${kid}\t.*\tremoved \\d{4}-`),
    );
    expect((await run('regional', 'gateway', 'remove', '--data-dir', regionalDir, '--kid', kid)).code).toBe(
      1,
    );
    uplinks.add(day.slice(480, 600));
    await sealer.sealNow();
    const third = join(dir, 'bundle-3.cose');
    await writeFile(third, uplinks.commits.at(-1)!.cose);
    const late = await run('regional', 'ingest', '--data-dir', regionalDir, third);
    expect(JSON.parse(late.out)).toMatchObject({ status: 'rejected', reason: 'BundleUnknownKey' });
    const removedRep = await exportDay('north-after-removal');
    expect(removedRep.allBundlesValid).toBe(true);
    expect(removedRep.uplinks).toBe(rep.uplinks);
  });
});
