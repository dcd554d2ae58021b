/**
 * A format 3 bundle's statement read on its own (PROOF.md §3.1): what a verifier holding only the
 * statement form (telemetry stripped) learns and can check against the signature: sequence,
 * chain link, time range, time sources, plots, device summaries, and the Merkle root and tree
 * size over the records it cannot see. The full check against the telemetry is payload.ts's.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { HASH_BYTES } from '../proof/merkle.js';
import { decodeCbor } from './cbor-decode.js';
import type { CborValue } from './cbor-encode.js';
import { PayloadKey, StatementKey } from './payload-build.js';
import { payloadFormat } from './payload-decode.js';
import { plotFromCbor } from './plots.js';
import type {
  BundleCommitment,
  BundleFormatVersion,
  DeviceSummary,
  PlotReference,
  TimeRange,
  TimeSource,
} from './types.js';

/** What a bundle signs, telemetry aside. `commitment` is present from format 3 on. */
export interface BundleStatement {
  version: BundleFormatVersion;
  seq: number;
  prevHash: Uint8Array;
  timeRange: TimeRange;
  timeSources: Record<TimeSource, number>;
  plots: PlotReference[];
  devices: DeviceSummary[];
  commitment?: BundleCommitment;
}

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `bundle statement: ${message}`);
}

function uint(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${what} must be an unsigned integer`);
  }
  return value;
}

function uints(value: CborValue | undefined, what: string, length?: number): number[] {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
    throw malformed(`${what} must be an array${length === undefined ? '' : ` of ${length}`}`);
  }
  return value.map((v, i) => uint(v, `${what}[${i}]`));
}

function hash(value: CborValue | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_BYTES)
    throw malformed(`${what} must be 32 bytes`);
  return value;
}

function deviceSummary(raw: CborValue, i: number, plots: PlotReference[]): DeviceSummary {
  if (!Array.isArray(raw) || raw.length !== 8) throw malformed(`device summary ${i} must have 8 elements`);
  const [devEui, plot, uplinks, first, last, missing, resets, sessions] = raw;
  if (!(devEui instanceof Uint8Array) || devEui.length !== 8)
    throw malformed(`device ${i}: DevEUI is 8 bytes`);
  const plotId = plot === null ? null : plots[uint(plot, `device ${i} plot index`)]?.plotId;
  if (plotId === undefined) throw malformed(`device ${i}: plot index out of range`);
  const flat = uints(missing, `device ${i} missing FCnts`);
  if (flat.length % 2 !== 0) throw malformed(`device ${i}: missing FCnts come in [from, to] pairs`);
  if (!Array.isArray(sessions)) throw malformed(`device ${i}: sessions must be an array`);
  return {
    devEui,
    plotId,
    uplinks: uint(uplinks, `device ${i} uplinks`),
    fCntFirst: uint(first, `device ${i} first FCnt`),
    fCntLast: uint(last, `device ${i} last FCnt`),
    missingFCnt: Array.from({ length: flat.length / 2 }, (_, k) => [
      flat[2 * k] as number,
      flat[2 * k + 1] as number,
    ]),
    counterResets: uint(resets, `device ${i} counter resets`),
    sessions: sessions.map((s, k) => {
      const [session, n, f, l] = uints(s, `device ${i} session ${k}`, 4) as [number, number, number, number];
      return { session, uplinks: n, fCntFirst: f, fCntLast: l };
    }),
  };
}

/**
 * Parses a format 3 statement (untrusted bytes: call after the signature holds). The summaries
 * cannot be checked against records here; their sum must match the signed tree size.
 */
export function decodeBundleStatement(bytes: Uint8Array): BundleStatement {
  const root = decodeCbor(bytes);
  const version = payloadFormat(root);
  if (version !== 3 || !(root instanceof Map)) throw malformed(`format ${version} has no separate statement`);
  for (const key of root.keys()) {
    if (typeof key !== 'number' || key < 0 || key > StatementKey.root)
      throw malformed(`unknown key ${String(key)}`);
  }
  if (root.size !== StatementKey.root + 1) throw malformed('a format 3 statement has exactly the keys 0..9');
  const range = uints(root.get(PayloadKey.timeRange), '3 (time range)', 2) as [number, number];
  if (range[1] < range[0]) throw malformed('time range ends before it starts');
  const [gps, ntp, unsynced] = uints(root.get(PayloadKey.timeSources), '4 (time sources)', 3) as [
    number,
    number,
    number,
  ];
  const rawPlots = root.get(PayloadKey.plots);
  if (!Array.isArray(rawPlots)) throw malformed('5 (plots) must be an array');
  const plots = rawPlots.map(plotFromCbor);
  const rawDevices = root.get(PayloadKey.devices);
  if (!Array.isArray(rawDevices)) throw malformed('6 (devices) must be an array');
  const devices = rawDevices.map((d, i) => deviceSummary(d, i, plots));
  const commitment: BundleCommitment = {
    telemetryDigest: hash(root.get(StatementKey.telemetryDigest), '7 (telemetry digest)'),
    leaves: uint(root.get(StatementKey.leaves), '8 (leaves)'),
    root: hash(root.get(StatementKey.root), '9 (Merkle root)'),
  };
  const uplinks = devices.reduce((n, d) => n + d.uplinks, 0);
  if (uplinks !== commitment.leaves || gps + ntp + unsynced !== commitment.leaves) {
    throw malformed(
      `device summaries (${uplinks}) and time sources disagree with the ${commitment.leaves} leaves`,
    );
  }
  return {
    version,
    seq: uint(root.get(PayloadKey.seq), '1 (seq)'),
    prevHash: hash(root.get(PayloadKey.prevHash), '2 (previous hash)'),
    timeRange: { start: range[0], end: range[1] },
    timeSources: { gps, ntp, 'host-unsynced': unsynced },
    plots,
    devices,
    commitment,
  };
}
