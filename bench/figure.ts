/** One measured figure. Benchmarks compare side by side in one run: ours vs a baseline, as a ratio. */
export interface BenchFigure {
  /** What was measured, e.g. "semtech-udp: PUSH_DATA datagrams parsed". */
  name: string;
  value: number;
  /** e.g. "datagrams/s", "bytes/uplink", "%". */
  unit: string;
  /** The baseline measured in the same run, when there is one. */
  baseline?: { name: string; value: number };
  /** value / baseline.value (or whatever the note says). */
  ratio?: number;
  note?: string;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export function opsPerSecond(fn: () => void, ms = 1000, opsPerCall = 1): number {
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    if ((calls & 15) === 0) now = performance.now();
  }
  now = performance.now();
  return (calls * opsPerCall * 1000) / (now - start);
}

/** Async variant: `fn` performs `opsPerCall` operations per call. */
export async function opsPerSecondAsync(fn: () => Promise<void>, ms = 1000, opsPerCall = 1): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) await fn();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    calls++;
  }
  return (calls * opsPerCall * 1000) / (performance.now() - start);
}
