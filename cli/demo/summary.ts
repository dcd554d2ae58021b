/** What the demo reports: a live progress line and the closing summary (table or JSON). */
import { renderTable } from '../format/table.js';

export interface DemoSummary {
  ok: boolean;
  devices: number;
  simulatedHours: number;
  serialPath: string;
  joinedDevices: number;
  uplinksSent: number;
  uplinksStored: number;
  uplinksVerified: number;
  bundlesSealed: number;
  bundlesVerified: number;
  duplicatesRejected: number;
  chainAlerts: number;
  confirmedSent: number;
  acksReceived: number;
  wrongTiming: number;
  linkBytes: Record<string, number>;
  linkCuts: number;
  durationMs: number;
  dataDir: string | undefined;
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
}

export function progressLine(p: Progress): string {
  return (
    `[${p.phase}] t=${p.simulatedHours.toFixed(1).padStart(4)} h  joined ${p.joined}/${p.devices}  ` +
    `uplinks sent ${p.uplinksSent} (radio receptions ${p.uplinksReceived})  bundles sealed ${p.bundlesSealed} verified ${p.bundlesVerified}  ` +
    `cellular ${p.linkUp ? 'up' : 'DOWN'} ${p.linkBytes} B`
  );
}

export function summaryTable(s: DemoSummary): string {
  const rows: [string, string | number][] = [
    ['devices (joined)', `${s.devices} (${s.joinedDevices} OTAA joined)`],
    ['simulated hours', s.simulatedHours],
    ['serial path', s.serialPath],
    ['uplinks sent by the farm', s.uplinksSent],
    ['uplinks stored on the gateway', s.uplinksStored],
    ['uplinks verified at the regional node', s.uplinksVerified],
    ['confirmed uplinks / ACKs received', `${s.confirmedSent} / ${s.acksReceived}`],
    ['downlinks at a wrong RX1/RX2 time', s.wrongTiming],
    ['bundles sealed / verified', `${s.bundlesSealed} / ${s.bundlesVerified}`],
    ['retransmitted bundles de-duplicated', s.duplicatesRejected],
    ['chain alerts at the regional node', s.chainAlerts],
    ...Object.entries(s.linkBytes).map(([k, v]): [string, string] => [
      `link bytes (${k})`,
      `${v} (${s.linkCuts} cut(s))`,
    ]),
    ['wall-clock duration', `${(s.durationMs / 1000).toFixed(1)} s`],
    [
      'result',
      s.ok ? 'OK: every uplink accounted for at the regional node' : 'FAILED: uplinks missing (see above)',
    ],
  ];
  return renderTable(['demo summary', 'value'], rows);
}
