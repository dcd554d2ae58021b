import { describe, expect, it } from 'vitest';
import { evidenceFailure, evidenceLine } from './evidence.js';
import { type DemoSummary, demoProblems, summaryTable } from './summary.js';

const healthy: Omit<DemoSummary, 'ok' | 'problems'> = {
  region: 'EU868',
  devices: 4,
  simulatedHours: 4,
  serialPath: 'socat pty',
  satellitePath: 'socat pty',
  joinedDevices: 3,
  uplinksSent: 64,
  uplinksStored: 64,
  uplinksVerified: 64,
  bundlesSealed: 5,
  bundlesVerified: 5,
  commitments: [{ day: '2026-06-01', bytes: 238, uplinks: 64, verified: true }],
  duplicatesRejected: 0,
  chainAlerts: 0,
  confirmedSent: 9,
  acksReceived: 9,
  wrongTiming: 0,
  linkBytes: { cellular: 100 },
  linkCuts: 1,
  durationMs: 1000,
  dataDir: undefined,
};

describe('demoProblems', () => {
  it('finds nothing wrong with a run where everything is accounted for', () => {
    expect(demoProblems(healthy)).toEqual([]);
  });

  it('names the commitment, not missing uplinks, when only the commitment is not at the regional node', () => {
    const problems = demoProblems({
      ...healthy,
      commitments: [{ day: '2026-06-01', bytes: 238, uplinks: 64, verified: false }],
    });
    expect(problems).toEqual([expect.stringContaining('daily commitment for 2026-06-01 is not held')]);
    expect(problems.join(' ')).not.toContain('uplinks');
  });

  it('counts uplinks that were not stored and bundles that were not verified', () => {
    const problems = demoProblems({ ...healthy, uplinksStored: 60, uplinksVerified: 60, bundlesVerified: 4 });
    expect(problems).toEqual([
      '4 of 64 uplinks sent are not stored on the gateway',
      '5 bundles sealed but 4 verified at the regional node',
    ]);
  });
});

describe('the evidence line', () => {
  const evidence = {
    plotId: 'north-field',
    days: '2026-06-01',
    bytes: 8470,
    observations: 32,
    committedRecords: 64,
    disclosed: 20,
    checks: 73,
    failed: [],
    valid: true,
  };

  it('states the pack in one summary line', () => {
    expect(evidenceLine(evidence)).toBe(
      'plot north-field 2026-06-01: 8470 B (25 satellite messages), 32 of 64 committed records, 20 drawn by a random nonce, 73 checks verified offline',
    );
    expect(summaryTable({ ok: true, problems: [], ...healthy, evidence })).toContain('evidence pack');
    expect(demoProblems({ ...healthy, evidence })).toEqual([]);
  });

  it('a pack that does not verify, or could not be built, is a problem of the run', () => {
    const failed = evidenceFailure('north-field', new Error('no geometry'));
    expect(evidenceLine(failed)).toBe('plot north-field: INVALID (build: no geometry)');
    expect(demoProblems({ ...healthy, evidence: failed })).toEqual([
      'the evidence pack for plot north-field does not verify: build: no geometry',
    ]);
  });
});
