import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The factor V8 used for the old generation's next limit after one full collection in a fresh
 * node, as its GC trace prints it, with or without applyGatewayHeapPolicy() first.
 */
function growingFactorAfterFullGc(applyPolicy: boolean): string {
  const moduleUrl = new URL('./heap-policy.ts', import.meta.url).href;
  const script = `
    const policy = await import(${JSON.stringify(moduleUrl)});
    if (${applyPolicy}) policy.applyGatewayHeapPolicy();
    const live = [];
    for (let i = 0; i < 300_000; i++) live.push({ i });
    globalThis.gc();
    console.log(live.length);`;
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', '--trace-gc-verbose', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000 },
  );
  // e.g. "[HeapController] Limit: old size: 15211 KB, new limit: 31456 KB (1.1)"
  const limits = [...run.stdout.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)/g)];
  const last = limits[limits.length - 1];
  if (!last) throw new Error(`no heap limit in the GC trace: ${run.stderr || run.stdout.slice(0, 500)}`);
  return last[1] as string;
}

describe('the gateway heap policy', () => {
  // setFlagsFromString ignores a flag V8 does not know (it only prints an error) and V8 could
  // stop reading it at run time: this pins that the factor really changes in this Node.
  it("sets the old generation's growing factor to 1.15 (V8 prints 1.1) where V8 would choose its own", () => {
    expect(growingFactorAfterFullGc(false)).not.toBe('1.1');
    expect(growingFactorAfterFullGc(true)).toBe('1.1');
  });
});
