/**
 * A device's receive windows after one transmission, and the rule that
 * decides whether a downlink falls in them: its concentrator timestamp must be
 * exactly the uplink's plus RECEIVE_DELAY1 (RX1) or RECEIVE_DELAY1 + 1 s
 * (RX2) — JOIN_ACCEPT_DELAY1/2 after a Join Request (LoRaWAN 1.0.4 §3.3.1,
 * §3.3.2, §6.2.5) — computed on the wrapping u32 µs counter of the path that
 * heard the uplink (Semtech PROTOCOL.TXT §4, `tmst`).
 */
import { addTmst } from '../proto/radio.js';
import type { ReceiveWindows } from './device.js';
import type { SentUplink } from './farm-stats.js';

/** One transmission and the receive windows opened after it. */
export interface Listening {
  kind: 'join' | 'data';
  windows: ReceiveWindows;
  /** The uplink's tmst on each path it went out on. */
  tmstByPath: Map<string, number>;
  sent?: SentUplink;
  answered: boolean;
  /** Resolves when a frame addressed to this transmission was accepted (or the device stopped). */
  answer: Promise<void>;
  resolve: () => void;
  /** Real time (performance.now) the frame was handed to every path. */
  wiredAtRealMs: number;
}

export type WindowMatch =
  | { kind: 'rx1' | 'rx2'; listening: Listening; frequencyHz: number; dr: number }
  /** The instant of an earlier transmission's window: the device has moved on. */
  | { kind: 'late' }
  | { kind: 'none' };

export function openListening(kind: 'join' | 'data', windows: ReceiveWindows, sent?: SentUplink): Listening {
  let resolve!: () => void;
  const answer = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    kind,
    windows,
    tmstByPath: new Map(),
    answered: false,
    answer,
    resolve,
    wiredAtRealMs: performance.now(),
    ...(sent ? { sent } : {}),
  };
}

function windowAt(l: Listening, pathName: string, tmst: number): WindowMatch | undefined {
  const up = l.tmstByPath.get(pathName);
  if (up === undefined) return undefined;
  for (const kind of ['rx1', 'rx2'] as const) {
    const w = l.windows[kind];
    if (tmst === addTmst(up, w.delayMs * 1000))
      return { kind, listening: l, frequencyHz: w.frequencyHz, dr: w.dr };
  }
  return undefined;
}

/**
 * The window of the current transmission a downlink at `tmst` on `pathName`
 * falls in; 'late' when it is the instant of an earlier (or already answered)
 * transmission; 'none' otherwise.
 */
export function matchWindow(
  current: Listening | undefined,
  recent: readonly Listening[],
  pathName: string,
  tmst: number,
): WindowMatch {
  if (current && !current.answered) {
    const m = windowAt(current, pathName, tmst);
    if (m) return m;
  }
  for (const l of recent) if (l !== current && windowAt(l, pathName, tmst)) return { kind: 'late' };
  if (current?.answered && windowAt(current, pathName, tmst)) return { kind: 'late' };
  return { kind: 'none' };
}
