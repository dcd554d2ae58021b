/**
 * Per-device summaries of a bundle (BUNDLE.md §3, payload key 6): uplinks,
 * first and last FCnt, gaps, counter resets and sessions of each device,
 * derived from the uplinks so a summary can never disagree with the telemetry
 * it summarises.
 */
import { type CborValue, compareBytes } from './cbor-encode.js';
import { sessionOf } from './columnar.js';
import type { BundleFormatVersion, DeviceSummary, SessionSummary, UplinkRecord } from './types.js';

/**
 * Per-device summaries in the canonical device order. Gaps and backwards moves are found in
 * receive order within each session; a new session (rejoin, counter reset) starts its own count.
 */
export function summarizeDevices(sorted: UplinkRecord[]): DeviceSummary[] {
  const out: DeviceSummary[] = [];
  let current: DeviceSummary | undefined;
  let previousFCnt = new Map<number, number>();
  for (const u of sorted) {
    const session = sessionOf(u);
    if (!current || compareBytes(current.devEui, u.devEui) !== 0 || current.plotId !== u.plotId) {
      current = {
        devEui: u.devEui,
        plotId: u.plotId,
        uplinks: 0,
        fCntFirst: u.fCnt,
        fCntLast: u.fCnt,
        missingFCnt: [],
        counterResets: 0,
        sessions: [],
      };
      out.push(current);
      previousFCnt = new Map();
    }
    const previous = previousFCnt.get(session);
    if (previous === undefined) {
      current.sessions.push({ session, uplinks: 0, fCntFirst: u.fCnt, fCntLast: u.fCnt });
    } else if (u.fCnt > previous + 1) {
      current.missingFCnt.push([previous + 1, u.fCnt - 1]);
    } else if (u.fCnt <= previous) {
      current.counterResets++;
    }
    const summary = current.sessions.find((s) => s.session === session) as SessionSummary;
    summary.uplinks++;
    summary.fCntLast = u.fCnt;
    current.uplinks++;
    current.fCntLast = u.fCnt;
    previousFCnt.set(session, u.fCnt);
  }
  for (const device of out) device.sessions.sort((a, b) => a.session - b.session);
  return out;
}

/** A device summary as JSON (hex DevEUI, [first, last] FCnt): what `bundle verify --json` prints. */
export function deviceSummaryJson(d: DeviceSummary) {
  return {
    devEui: Buffer.from(d.devEui).toString('hex'),
    plotId: d.plotId,
    uplinks: d.uplinks,
    fCnt: [d.fCntFirst, d.fCntLast],
    missingFCnt: d.missingFCnt,
    counterResets: d.counterResets,
    sessions: d.sessions.map((x) => ({
      session: x.session,
      uplinks: x.uplinks,
      fCnt: [x.fCntFirst, x.fCntLast],
    })),
  };
}

/** A summary as the payload holds it (plot by its index in the bundle's plot list). */
export function deviceSummaryToCbor(
  d: DeviceSummary,
  plotIndex: (id: string) => number,
  version: BundleFormatVersion,
): CborValue {
  const fields: CborValue[] = [
    d.devEui,
    d.plotId === null ? null : plotIndex(d.plotId),
    d.uplinks,
    d.fCntFirst,
    d.fCntLast,
    d.missingFCnt.flat(),
    d.counterResets,
  ];
  if (version >= 2) fields.push(d.sessions.map((s) => [s.session, s.uplinks, s.fCntFirst, s.fCntLast]));
  return fields;
}
