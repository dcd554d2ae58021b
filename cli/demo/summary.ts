/** What the demo reports: a live progress line and the closing summary (table or JSON). */
import { renderTable } from '../format/table.js';
import { type DemoEvidence, evidenceLine } from './evidence.js';

export interface DemoSummary {
  ok: boolean;
  /** Why the demo is not ok, one sentence per cause (empty when ok). */
  problems: string[];
  /** The radio region plan the farm and gateway ran on. */
  region: string;
  devices: number;
  simulatedHours: number;
  serialPath: string;
  satellitePath: string;
  joinedDevices: number;
  uplinksSent: number;
  uplinksStored: number;
  uplinksVerified: number;
  bundlesSealed: number;
  bundlesVerified: number;
  /** Daily commitments signed by the gateway and whether the regional node holds them. */
  commitments: { day: string; bytes: number; uplinks: number; verified: boolean }[];
  duplicatesRejected: number;
  chainAlerts: number;
  confirmedSent: number;
  acksReceived: number;
  wrongTiming: number;
  /** Per link: `cellular`, and `satellite` (MO + MT bytes) when the modem emulator ran. */
  linkBytes: Record<string, number>;
  linkCuts: number;
  /** The satellite link's traffic and cost, when the modem emulator ran. */
  satellite?: SatelliteSummary;
  /** The evidence pack built for one plot at the end and verified offline (absent in older summaries). */
  evidence?: DemoEvidence;
  durationMs: number;
  dataDir: string | undefined;
}

export interface SatelliteSummary {
  /** Messages sent in a session (delivered or lost on the way). */
  moMessages: number;
  mtMessages: number;
  /** Bytes sent (MO) and received (MT); only MO bytes count against the gateway's budget. */
  moBytes: number;
  mtBytes: number;
  lostMessages: number;
  failedSessions: number;
  sessions: number;
  /** RockBLOCK credits (one per 50 bytes or part of it, per message). */
  credits: number;
  /** Bundles the regional node received whole over satellite. */
  bundlesDelivered: number;
}

export interface Progress {
  phase: string;
  simulatedHours: number;
  joined: number;
  devices: number;
  uplinksSent: number;
  uplinksReceived: number;
  bundlesSealed: number;
  bundlesVerified: number;
  linkUp: boolean;
  linkBytes: number;
  satelliteBytes?: number;
}

export function progressLine(p: Progress): string {
  return (
    `[${p.phase}] t=${p.simulatedHours.toFixed(1).padStart(4)} h  joined ${p.joined}/${p.devices}  ` +
    `uplinks sent ${p.uplinksSent} (radio receptions ${p.uplinksReceived})  bundles sealed ${p.bundlesSealed} verified ${p.bundlesVerified}  ` +
    `cellular ${p.linkUp ? 'up' : 'DOWN'} ${p.linkBytes} B` +
    (p.satelliteBytes === undefined ? '' : `  satellite ${p.satelliteBytes} B`)
  );
}

export function summaryTable(s: DemoSummary): string {
  const rows: [string, string | number][] = [
    ['region plan', s.region],
    ['devices (joined)', `${s.devices} (${s.joinedDevices} OTAA joined)`],
    ['simulated hours', s.simulatedHours],
    ['serial path', s.serialPath],
    ['satellite link', s.satellitePath],
    ['uplinks sent by the farm', s.uplinksSent],
    ['uplinks stored on the gateway', s.uplinksStored],
    ['uplinks verified at the regional node', s.uplinksVerified],
    ['confirmed uplinks / ACKs received', `${s.confirmedSent} / ${s.acksReceived}`],
    ['downlinks at a wrong RX1/RX2 time', s.wrongTiming],
    ['bundles sealed / verified', `${s.bundlesSealed} / ${s.bundlesVerified}`],
    ...s.commitments.map((c): [string, string] => [
      `daily commitment ${c.day}`,
      `${c.bytes} B, ${c.uplinks} uplinks, ${c.verified ? 'held by the regional node' : 'NOT at the regional node'}`,
    ]),
    ['retransmitted bundles de-duplicated', s.duplicatesRejected],
    ['chain alerts at the regional node', s.chainAlerts],
    ...Object.entries(s.linkBytes).map(([k, v]): [string, string] => [
      `link bytes (${k})`,
      k === 'cellular' ? `${v} (${s.linkCuts} cut(s))` : String(v),
    ]),
    ...(s.satellite
      ? ([
          [
            'satellite messages MO / MT (lost)',
            `${s.satellite.moMessages} / ${s.satellite.mtMessages} (${s.satellite.lostMessages})`,
          ],
          ['satellite sessions (failed)', `${s.satellite.sessions} (${s.satellite.failedSessions})`],
          ['satellite credits', s.satellite.credits],
          ['bundles delivered by satellite', s.satellite.bundlesDelivered],
        ] as [string, string | number][])
      : []),
    ...(s.evidence ? ([['evidence pack', evidenceLine(s.evidence)]] as [string, string][]) : []),
    ['wall-clock duration', `${(s.durationMs / 1000).toFixed(1)} s`],
    ['result', s.ok ? 'OK: every uplink accounted for at the regional node' : 'FAILED (causes below)'],
    ...s.problems.map((p, i): [string, string] => [`problem ${i + 1}`, p]),
  ];
  return renderTable(['demo summary', 'value'], rows);
}

/** What keeps a demo run from being ok, each cause named (an empty list: it is ok). */
export function demoProblems(s: Omit<DemoSummary, 'ok' | 'problems'>): string[] {
  const problems: string[] = [];
  if (s.uplinksSent === 0) problems.push('the farm sent no uplinks (did any device join?)');
  if (s.uplinksStored < s.uplinksSent) {
    problems.push(
      `${s.uplinksSent - s.uplinksStored} of ${s.uplinksSent} uplinks sent are not stored on the gateway`,
    );
  }
  if (s.uplinksStored > s.uplinksSent) {
    problems.push(`the gateway stored ${s.uplinksStored - s.uplinksSent} uplinks more than the farm sent`);
  }
  if (s.uplinksVerified < s.uplinksStored) {
    problems.push(
      `${s.uplinksStored - s.uplinksVerified} stored uplinks are not in a bundle verified at the regional node`,
    );
  }
  if (s.bundlesVerified !== s.bundlesSealed) {
    problems.push(`${s.bundlesSealed} bundles sealed but ${s.bundlesVerified} verified at the regional node`);
  }
  if (s.commitments.length === 0) problems.push('the gateway signed no daily commitment');
  for (const c of s.commitments.filter((x) => !x.verified)) {
    problems.push(
      `the daily commitment for ${c.day} is not held by the regional node (refused or never delivered: see the gateway log)`,
    );
  }
  if (s.chainAlerts > 0) problems.push(`${s.chainAlerts} chain alert(s) at the regional node`);
  if (s.evidence && !s.evidence.valid)
    problems.push(
      `the evidence pack for plot ${s.evidence.plotId} does not verify: ${s.evidence.failed.join('; ')}`,
    );
  return problems;
}
