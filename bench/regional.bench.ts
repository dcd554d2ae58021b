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
import type { BenchFigure } from './figure.js';
import { runRegionalLoad } from './regional-load.js';

export async function run(): Promise<BenchFigure[]> {
  const gateways = Number(process.env.MAVERICK_BENCH_REGIONAL_GATEWAYS ?? 40);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const one = await runRegionalLoad({ gateways, workers: 1, log });
  const two = await runRegionalLoad({ gateways, workers: 2, log });
  // What format 3 (the statement, its inflated telemetry and Merkle root checked) costs the
  // node against format 2, in the same run.
  const formatTwo = await runRegionalLoad({ gateways, workers: 1, format: 2, log });
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
  ];
}
