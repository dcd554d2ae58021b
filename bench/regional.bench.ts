/**
 * The regional node at scale (bench/regional-load.ts): simulated gateways
 * through mosquitto to 1 and then 2 worker processes on PostgreSQL. The
 * default size is small so `npm run bench` stays short; the acceptance
 * sizes run with MAVERICK_BENCH_REGIONAL_GATEWAYS=400 or 5000, or directly:
 *   node --import tsx bench/regional-load.ts --gateways 5000 --workers 2
 */
import type { BenchFigure } from './figure.js';
import { runRegionalLoad } from './regional-load.js';

export async function run(): Promise<BenchFigure[]> {
  const gateways = Number(process.env.MAVERICK_BENCH_REGIONAL_GATEWAYS ?? 40);
  const one = await runRegionalLoad({ gateways, workers: 1 });
  const two = await runRegionalLoad({ gateways, workers: 2 });
  const rate = (figures: BenchFigure[]) => figures[0]?.value ?? Number.NaN;
  return [
    ...one,
    ...two,
    {
      name: `regional ${gateways} gw: 2 workers vs 1`,
      value: rate(two),
      unit: 'bundles/s',
      baseline: { name: '1 worker', value: rate(one) },
      ratio: rate(two) / rate(one),
    },
  ];
}
