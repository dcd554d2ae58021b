/**
 * Issue 7, acceptance 1 (small setting): `maverick demo` runs the field in a
 * box end to end — a real gateway process, real sockets and pty, an emulated
 * link with an outage, a regional node — and exits 0 only when every uplink
 * the farm sent is stored and verified at the regional node.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('maverick demo', () => {
  it('accounts for every simulated uplink at the regional node, through an outage', async () => {
    const result = await runCli(
      [
        'demo',
        '--devices',
        '4',
        '--hours',
        '4',
        '--outage',
        '1-3',
        '--speed',
        '1500',
        '--seed',
        '3',
        '--json',
      ],
      { timeoutMs: 180_000 },
    );
    expect(result.timedOut).toBe(false);
    const summary = JSON.parse(result.stdout) as Record<string, number | boolean | Record<string, number>>;
    expect(summary).toMatchObject({
      ok: true,
      devices: 4,
      simulatedHours: 4,
      chainAlerts: 0,
      wrongTiming: 0,
    });
    // 4 devices × 16 uplinks (every 15 simulated minutes for 4 hours).
    expect(summary.uplinksSent).toBe(64);
    expect(summary.uplinksStored).toBe(64);
    expect(summary.uplinksVerified).toBe(64);
    expect(summary.bundlesVerified).toBe(summary.bundlesSealed);
    expect(summary.linkCuts).toBe(1);
    expect((summary.linkBytes as Record<string, number>).cellular).toBeGreaterThan(0);
    expect(result.code).toBe(0);
  }, 200_000);

  it('refuses a bad option with a message naming it', async () => {
    const result = await runCli(['demo', '--outage', '9-3'], { timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--outage 9-3');
  });
});
