/**
 * Soak: a real `maverick run` (dist/, `maverick init`, 50 ABP devices) under
 * `node --max-old-space-size=64`, fed uplinks over loopback UDP at a steady
 * rate, sealed every `--seal-every` uplinks through POST /seal (a simulated
 * hour), and its resident memory sampled all along. It must complete (the
 * heap never runs out) and RSS over the second half must stay flat.
 *
 *   node --import tsx bench/soak.ts [--uplinks 300000] [--rate 500] [--seal-every 25000] [--json]
 *
 * Baseline in the same run: raw better-sqlite3 (WAL + FULL) inserting the rows
 * the gateway stored. Not part of `npm run bench` (it runs for minutes).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readStatusToken } from '../gateway/status/token.js';
import { withGatewayStore } from '../gateway/store-access.js';
import { FarmUplinkSource } from '../kernel/db/sealing.js';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import type { BenchFigure } from './figure.js';
import {
  buildDatagrams,
  feed,
  lossesBetween,
  pipelineCounters,
  rawInsertRate,
  rcvbufErrors,
  residentMb,
  setUpGateway,
  startGateway,
  tearDown,
} from './gateway-harness.js';

const { values } = parseArgs({
  options: {
    uplinks: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '500' },
    'seal-every': { type: 'string', default: '25000' },
    devices: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.uplinks);
const rate = Number(values.rate);
const sealEvery = Number(values['seal-every']);
const deviceCount = Number(values.devices);
for (const [name, value] of Object.entries({
  uplinks: total,
  rate,
  'seal-every': sealEvery,
  devices: deviceCount,
})) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
}

/** The gateway's main-thread V8 heap in use, MB (prom-client's default metric on GET /metrics). */
async function heapUsedMb(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const bytes = /^maverick_process_nodejs_heap_size_used_bytes\s+(\S+)$/m.exec(text)?.[1];
  return bytes === undefined ? Number.NaN : Number(bytes) / 1024 / 1024;
}

/** Least-squares slope of `value` against uplinks, in MB per 100,000 uplinks (0 = flat). */
function slopePer100k(points: { uplinks: number; value: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p.uplinks, 0) / n;
  const my = points.reduce((a, p) => a + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.uplinks - mx) * (p.value - my);
    den += (p.uplinks - mx) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 100_000;
}

const setup = await setUpGateway(deviceCount);
const samples: { uplinks: number; rssMb: number }[] = [];
const heapSamples: { uplinks: number; value: number }[] = [];
let sealed = 0;
let sealedUplinks = 0;
let stored = 0;
let dropped = 0;
let losses = '';
try {
  const gateway = await startGateway(setup, { nodeOptions: '--max-old-space-size=64' });
  try {
    const dropsBefore = rcvbufErrors();
    const countersBefore = await pipelineCounters(setup);
    for (let done = 0; done < total; ) {
      const chunk = Math.min(sealEvery, total - done);
      // Built per chunk: the whole soak's datagrams would not fit the bench's own memory budget.
      const datagrams = buildDatagrams(setup, deviceCount, chunk);
      const sampler = setInterval(() => {
        const uplinks = done + gateway.stored() - stored;
        samples.push({ uplinks, rssMb: residentMb(gateway.pid).rss });
        heapUsedMb(setup.metricsPort).then(
          (value) => heapSamples.push({ uplinks, value }),
          () => undefined, // a sample missed under load is no figure
        );
      }, 2000);
      const result = await feed(gateway, setup.udpPort, datagrams, rate);
      clearInterval(sampler);
      stored += result.stored;
      done += chunk;
      // Status actions need the data directory's token (gateway/status/token.ts), as `maverick seal` sends it.
      const token = readStatusToken(setup.dataDir);
      if (!token) throw new Error(`no status token in ${setup.dataDir}: the gateway writes one at start`);
      const response = await fetch(`http://127.0.0.1:${setup.metricsPort}/seal`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`POST /seal answered ${response.status}: ${await response.text()}`);
      const bundles = (await response.json()) as { uplinks: number }[];
      sealed += bundles.length;
      sealedUplinks += bundles.reduce((n, b) => n + b.uplinks, 0);
      samples.push({ uplinks: done, rssMb: residentMb(gateway.pid).rss });
      if (!values.json) {
        process.stderr.write(
          `${done}/${total} sent, ${stored} stored, ${sealedUplinks} sealed, RSS ${samples.at(-1)?.rssMb.toFixed(0)} MB\n`,
        );
      }
    }
    dropped = rcvbufErrors() - dropsBefore;
    losses = lossesBetween(countersBefore, await pipelineCounters(setup));
    const code = await gateway.stop();
    if (code !== 0) throw new Error(`maverick run exited with ${code}: ${gateway.stderr()}`);
  } catch (err) {
    // Also after the gateway died: stop() closes the MQTT client, socket and timer that keep this process alive.
    await gateway.stop();
    throw new Error(`soak failed: ${String(err)}\n${gateway.stderr()}`);
  }
  // What the store holds after the run: every uplink, and how many are sealed (by POST /seal or the sealer's own timer).
  const held = await withGatewayStore(setup.dataDir, async (db) => ({
    uplinks: await countUplinks(db),
    unsealed: await new FarmUplinkSource(db).countUnsealed(),
    bundles: await db.bundles.count().exec(),
  }));
  const raw = await rawInsertRate(setup, join(setup.dataDir, '..', 'raw.sqlite'));
  const at = (fraction: number) =>
    samples[Math.min(samples.length - 1, Math.floor(fraction * (samples.length - 1)))];
  const secondHalf = samples.slice(Math.floor(samples.length / 2)).map((s) => s.rssMb);
  const rssSlope = slopePer100k(
    samples.slice(Math.floor(samples.length / 2)).map((s) => ({ uplinks: s.uplinks, value: s.rssMb })),
  );
  const heapHalf = heapSamples.slice(Math.floor(heapSamples.length / 2));
  const heapSlope = slopePer100k(heapHalf);
  const heapAt = (fraction: number) =>
    heapSamples[Math.min(heapSamples.length - 1, Math.floor(fraction * (heapSamples.length - 1)))]?.value ??
    Number.NaN;
  const first = at(0);
  const middle = at(0.5);
  const last = at(1);
  const figures: BenchFigure[] = [
    {
      name: `soak: maverick run under --max-old-space-size=64, ${total} uplinks at ${rate}/s from ${deviceCount} devices, stored`,
      value: (100 * stored) / total,
      unit: '% stored',
      baseline: { name: 'raw better-sqlite3 WAL+FULL, same rows, 500/transaction (rows/s)', value: raw },
      ratio: rate / raw,
      note:
        `${stored}/${total} stored (store holds ${held.uplinks}, ${held.uplinks - held.unsealed} sealed in ${held.bundles} bundles; ` +
        `POST /seal sealed ${sealedUplinks} in ${sealed}, the sealer's timer the rest); RcvbufErrors +${dropped}; ` +
        `lost inside the gateway: ${losses}; ratio = offered rate vs raw`,
    },
    {
      name: 'soak: resident memory, first / middle / last sample',
      value: last?.rssMb ?? Number.NaN,
      unit: 'MB (last)',
      baseline: { name: 'middle sample', value: middle?.rssMb ?? Number.NaN },
      ratio: (last?.rssMb ?? Number.NaN) / (middle?.rssMb ?? Number.NaN),
      note:
        `first ${first?.rssMb.toFixed(0)} MB at ${first?.uplinks} uplinks, middle ${middle?.rssMb.toFixed(0)} MB at ${middle?.uplinks}, ` +
        `last ${last?.rssMb.toFixed(0)} MB at ${last?.uplinks}; second half min ${Math.min(...secondHalf).toFixed(0)} / max ${Math.max(...secondHalf).toFixed(0)} MB, ` +
        `slope ${rssSlope.toFixed(1)} MB per 100k uplinks`,
    },
    {
      name: 'soak: main-thread V8 heap in use, first / middle / last sample',
      value: heapAt(1),
      unit: 'MB (last)',
      baseline: { name: 'middle sample', value: heapAt(0.5) },
      ratio: heapAt(1) / heapAt(0.5),
      note:
        `first ${heapAt(0).toFixed(1)} MB, middle ${heapAt(0.5).toFixed(1)} MB, last ${heapAt(1).toFixed(1)} MB ` +
        `(${heapSamples.length} samples, taken between collections); second half min ${Math.min(...heapHalf.map((h) => h.value)).toFixed(1)} / ` +
        `max ${Math.max(...heapHalf.map((h) => h.value)).toFixed(1)} MB, slope ${heapSlope.toFixed(1)} MB per 100k uplinks`,
    },
  ];
  for (const f of figures) {
    if (values.json) process.stdout.write(`${JSON.stringify({ suite: 'soak', ...f })}\n`);
    else process.stdout.write(`${f.name}: ${f.value.toFixed(1)} ${f.unit}; ${f.note}\n`);
  }
} finally {
  tearDown(setup);
}
