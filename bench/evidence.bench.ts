/**
 * Evidence pack sizes and times (issue 14): a farm of 10 devices reporting every 15 minutes
 * for a year (350 400 committed records, built with the proof API as the gateway seals them),
 * one plot's pack without GeoJSON and with a 20-record spot check. Sizes in bytes and in
 * 340-byte satellite messages against the baseline of handing over every record; CPU time to
 * build the pack on the regional node (rebuilding the period tree included) and to verify it
 * with the offline core the CLI and the HTML page share.
 */
import { loadavg } from 'node:os';
import { verifyPack } from '../proto/evidence/verify.js';
import { buildEvidencePack } from '../regional/evidence.js';
import { farmEvidenceRequest, farmPeriod, regionalKey } from '../test/fixtures/evidence-farm.js';
import type { BenchFigure } from './figure.js';

const MESSAGE_BYTES = 340;

function cpuMs(fn: () => void, runs: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

export async function run(): Promise<BenchFigure[]> {
  const load = `load ${loadavg()[0]?.toFixed(1)}`;
  const period = farmPeriod({ days: 365 });
  const nonce = new Uint8Array(32).fill(0x5a);
  const request = farmEvidenceRequest(period, nonce);
  let bytes: Uint8Array = new Uint8Array();
  const buildMs = cpuMs(() => {
    bytes = buildEvidencePack(request).bytes;
  }, 1);
  let ok = false;
  const verifyMs = cpuMs(() => {
    ok = verifyPack(bytes, { regionalKey: regionalKey.publicKey }).ok;
  }, 5);
  if (!ok) throw new Error('the benchmark pack does not verify');
  const raw = period.leaves.reduce((n, l) => n + l.length, 0);
  const records = period.records.length;
  return [
    {
      name: `pack bytes, farm-year (${records} records), 20-record spot check, no GeoJSON`,
      value: bytes.length,
      unit: 'bytes',
      baseline: { name: 'every record handed over (leaf bytes)', value: raw },
      ratio: bytes.length / raw,
      note: `target ≤ 16384 B; ${load}`,
    },
    {
      name: 'pack in 340-byte satellite messages',
      value: Math.ceil(bytes.length / MESSAGE_BYTES),
      unit: 'messages',
      baseline: { name: 'every record handed over', value: Math.ceil(raw / MESSAGE_BYTES) },
      ratio: Math.ceil(bytes.length / MESSAGE_BYTES) / Math.ceil(raw / MESSAGE_BYTES),
      note: load,
    },
    {
      name: 'build the pack on the regional node (period tree rebuilt, claims, receipts)',
      value: buildMs,
      unit: 'CPU ms',
      note: `one run; ${load}`,
    },
    {
      name: 'verify the pack offline (CLI / page core)',
      value: verifyMs,
      unit: 'CPU ms',
      note: `mean of 5; ${load}`,
    },
  ];
}
