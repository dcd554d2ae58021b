/**
 * The regional node at scale (bench/regional-load.ts): simulated gateways
 * through mosquitto to 1 and then 2 worker processes on PostgreSQL. The
 * default size is small so `npm run bench` stays short; the acceptance
 * sizes are one command each:
 *   MAVERICK_BENCH_REGIONAL_GATEWAYS=400 npm run bench -- --only regional
 *   MAVERICK_BENCH_REGIONAL_GATEWAYS=5000 npm run bench -- --only regional
 * or directly (JSON lines): node --import tsx bench/regional-load.ts --gateways 5000 [--workers 2]
 * Each run's exactly-once and chain-continuity check is printed on stderr; a
 * failed check fails the benchmark. The gateways send format 3 (what they
 * seal); a third run with format 2 gives what format 3 costs per bundle.
 */
import { verifyBundle } from '../proto/bundle/bundle.js';
import { keyIdOf, toHex } from '../proto/bundle/ed25519.js';
import { type FleetFormat, makeFleet } from '../test/fixtures/regional-fleet.js';
import type { BenchFigure } from './figure.js';
import { runRegionalLoad } from './regional-load.js';

/**
 * The node's verification alone, in this process: every hourly bundle of a 41-gateway fleet
 * (10-50 devices, so every size once) through verifyBundle, timed in CPU (not wall) seconds.
 */
function verifiedPerCpuSecond(format: FleetFormat): number {
  const fleet = makeFleet(41, 24, format);
  const keys = new Map(fleet.map((g) => [toHex(keyIdOf(g.publicKey)), g.publicKey]));
  const bundles = fleet.flatMap((g) => g.bundles.map((b) => b.cose));
  const resolve = (kid: Uint8Array) => keys.get(toHex(kid));
  for (const cose of bundles.slice(0, 100)) verifyBundle(cose, resolve); // warm-up
  const rounds = 3;
  const before = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const cose of bundles) verifyBundle(cose, resolve);
  const used = process.cpuUsage(before);
  return (rounds * bundles.length) / ((used.user + used.system) / 1e6);
}

export async function run(): Promise<BenchFigure[]> {
  const gateways = Number(process.env.MAVERICK_BENCH_REGIONAL_GATEWAYS ?? 40);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const one = await runRegionalLoad({ gateways, workers: 1, log });
  const two = await runRegionalLoad({ gateways, workers: 2, log });
  // What format 3 (the statement, its inflated telemetry and Merkle root checked) costs the
  // node against format 2, in the same run.
  const formatTwo = await runRegionalLoad({ gateways, workers: 1, format: 2, log });
  const verifyThree = verifiedPerCpuSecond(3);
  const verifyTwo = verifiedPerCpuSecond(2);
  const rate = (figures: BenchFigure[]) => figures[0]?.value ?? Number.NaN;
  const perCpu = (figures: BenchFigure[]) => figures[1]?.value ?? Number.NaN;
  return [
    ...one,
    ...two,
    ...formatTwo,
    {
      name: `regional ${gateways} gw: 2 workers vs 1`,
      value: rate(two),
      unit: 'bundles/s',
      baseline: { name: '1 worker', value: rate(one) },
      ratio: rate(two) / rate(one),
    },
    {
      name: `regional ${gateways} gw, 1 worker: format 3 vs format 2 per worker CPU`,
      value: perCpu(one),
      unit: 'bundles/CPU-s',
      baseline: { name: 'format 2', value: perCpu(formatTwo) },
      ratio: perCpu(one) / perCpu(formatTwo),
    },
    {
      name: 'regional: verify an hourly bundle (10-50 devices), format 3 vs format 2, in process',
      value: verifyThree,
      unit: 'bundles/CPU-s',
      baseline: { name: 'format 2', value: verifyTwo },
      ratio: verifyThree / verifyTwo,
      note: 'verifyBundle alone: signature, strict decode, summaries, format 3 inflate + digest + Merkle root',
    },
  ];
}
