/**
 * Issue 7, acceptance 1 (small setting): `maverick demo` runs the field in a
 * box end to end — a real gateway process, real sockets and pty, an emulated
 * link with an outage, a regional node — and exits 0 only when every uplink
 * the farm sent is stored and verified at the regional node. With socat the
 * gateway also has its Iridium SBD modem (emulated on a pty): during the
 * cellular outage evidence still reaches the regional node by satellite,
 * within the satellite's daily byte budget.
 */
import { describe, expect, it } from 'vitest';
import { socatAvailable } from '../simulator/serial-concentrator-pty.js';
import { runCli } from './helpers/cli.js';

const SATELLITE_BUDGET = 3400;

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
        '--satellite-budget',
        String(SATELLITE_BUDGET),
        '--json',
      ],
      { timeoutMs: 180_000 },
    );
    expect(result.timedOut).toBe(false);
    // Without a summary, say why: the exit code and the end of what the demo wrote on stderr.
    expect(result.stdout, `exit ${result.code}; stderr ends:\n${result.stderr.slice(-3000)}`).not.toBe('');
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
    // The day's signed commitment (one satellite message) reached the regional node too.
    expect(summary.commitments).toEqual([
      expect.objectContaining({ day: '2026-06-01', uplinks: 64, verified: true }),
    ]);
    expect((summary.commitments as unknown as { bytes: number }[])[0]!.bytes).toBeLessThanOrEqual(340);
    expect(summary.linkCuts).toBe(1);
    // Issue 14: the demo ends with one plot's evidence pack, built from the period statement the
    // gateway sent over its link (the pack needs one the regional node holds) and verified
    // offline; 20 of the 64 committed records drawn by a random nonce.
    expect(summary.evidence).toMatchObject({
      plotId: 'north-field',
      valid: true,
      committedRecords: 64,
      disclosed: 20,
      failed: [],
    });
    const evidence = summary.evidence as unknown as { observations: number; bytes: number };
    expect(evidence.observations).toBeGreaterThan(0);
    expect(evidence.observations).toBeLessThan(64);
    const linkBytes = summary.linkBytes as Record<string, number>;
    expect(linkBytes.cellular).toBeGreaterThan(0);
    if (socatAvailable()) {
      // Bundles sealed during the outage (hours 1-3) went by satellite, and no more than the budget was spent.
      const satellite = summary.satellite as unknown as Record<string, number>;
      expect(satellite.bundlesDelivered).toBeGreaterThan(0);
      expect(satellite.moMessages).toBeGreaterThan(0);
      expect(satellite.credits).toBeGreaterThan(0);
      expect(linkBytes.satellite).toBeGreaterThan(0);
      expect(linkBytes.satellite).toBe(satellite.moBytes! + satellite.mtBytes!);
      expect(satellite.moBytes).toBeLessThanOrEqual(SATELLITE_BUDGET);
    } else {
      expect(linkBytes.satellite).toBeUndefined();
      expect(summary.satellitePath).toContain('socat not installed');
    }
    expect(result.code).toBe(0);
  }, 200_000);

  // Issue 12: the same field in the farms' other plans (small setting): joins, ACKs in the plan's
  // RX1/RX2 windows (the farm's devices hear only a downlink at the right time, frequency and DR).
  it.each(['AU915', 'as923-2'])(
    'runs in the %s plan',
    async (region) => {
      const result = await runCli(
        [
          'demo',
          '--region',
          region,
          '--devices',
          '3',
          '--hours',
          '2',
          '--outage',
          'none',
          '--seed',
          '4',
          '--json',
        ],
        { timeoutMs: 150_000 },
      );
      expect(result.timedOut).toBe(false);
      const summary = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({
        ok: true,
        region: region.toUpperCase(),
        wrongTiming: 0,
        uplinksSent: 24,
        uplinksStored: 24,
        uplinksVerified: 24,
      });
      expect(summary.joinedDevices).toBeGreaterThan(0);
      expect(summary.acksReceived).toBe(summary.confirmedSent);
      expect(result.code).toBe(0);
    },
    180_000,
  );

  it('refuses a bad option with a message naming it', async () => {
    const result = await runCli(['demo', '--outage', '9-3'], { timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--outage 9-3');
    const region = await runCli(['demo', '--region', 'EU433'], { timeoutMs: 60_000 });
    expect(region.code).not.toBe(0);
    expect(region.stderr).toContain('--region EU433: use one of EU868, US915, AU915');
  });
});
