/**
 * The uplink pipeline for data frames (LoRaWAN 1.0.4 §4, §6.1.4 — read along
 * ChirpStack's uplink/data.rs for behaviour): candidates by DevAddr, MIC at
 * the reconstructed 32-bit FCnt, the FCnt rule (new / retransmission /
 * replay), FRMPayload decryption, MAC commands, ADR and the payload codec.
 * It changes nothing durable: it returns the updated session for the caller
 * to store once the uplink itself is stored.
 */
import { describeError } from '../../proto/errors.js';
import {
  type DataFrame,
  decryptFrmPayload,
  type MacCommand,
  parseMacCommands,
  reconstructFCnt,
  verifyDataMic,
} from '../../proto/lorawan/index.js';
import type { TimeSource } from '../../proto/radio.js';
import { getRegion, type Region } from '../../proto/regions/index.js';
import {
  type AdrDecision,
  adrDecision,
  DEFAULT_INSTALLATION_MARGIN_DB,
  recordAdrHistory,
  requiredSnrDb,
} from './adr.js';
import type { CollectedUplink } from './dedup.js';
import { gpsToUnixMs, handleUplinkMac, type MacNote, unixToGpsMs } from './mac.js';
import { adrLimits } from './region-limits.js';
import type { Rejection } from './rejection.js';
import type { ActiveDevice, NetworkRepository } from './repository.js';
import { nextGeneration, sessionGeneration } from './session.js';
import { sessionKeyBytes } from './session-keys.js';
import type { Device, DeviceSession, DevStatus } from './types.js';
import type { DecodePayload, DeviceInfo, ProcessedUplink } from './uplink-types.js';

export interface UplinkProcessorOptions {
  /** Where sessions are looked up (the network server's SessionsAhead: the newest ones). */
  repository: Pick<NetworkRepository, 'devicesByDevAddr'>;
  decodePayload?: DecodePayload;
  hostTimeSource?: () => TimeSource;
  installationMarginDb?: number;
}

export interface AcceptedUplink {
  kind: 'accepted';
  device: Device;
  /** The session with counters, MAC and ADR state advanced; not yet stored. */
  session: DeviceSession;
  uplink: ProcessedUplink;
  macAnswers: MacCommand[];
  /** The ADR decision when it differs from the session (LinkADRReq to send). */
  adr?: AdrDecision;
  status?: DevStatus;
  notes: MacNote[];
  /** A confirmed downlink the ACK bit of this uplink settles. */
  settledAck?: { downlinkId: string; fCntDown: number; acknowledged: boolean };
}

export interface RetransmittedUplink {
  kind: 'retransmission';
  device: Device;
  session: DeviceSession;
  frame: DataFrame;
  fCnt: number;
}

export type UplinkOutcome = AcceptedUplink | RetransmittedUplink | { kind: 'rejected'; rejection: Rejection };

export function deviceInfo(device: Device): DeviceInfo {
  const info: DeviceInfo = {
    devEui: device.devEui,
    name: device.name,
    applicationId: device.applicationId,
    regionId: device.regionId,
    codec: device.codec,
  };
  if (device.plotId !== undefined) info.plotId = device.plotId;
  return info;
}

interface Match {
  active: ActiveDevice;
  fCnt32: number;
}

/**
 * A MIC already checked for this frame: the session key (hex) and the 32-bit FCnt it was
 * checked at. The MIC is a function of the frame's bytes, the key and the FCnt only, so the
 * same pair needs no second AES-CMAC (the admission checks it, the device's lane looks again
 * with the session as the earlier frames left it).
 */
export interface VerifiedMic {
  nwkSKey: string;
  fCnt32: number;
}

export class UplinkProcessor {
  constructor(private readonly options: UplinkProcessorOptions) {}

  async process(
    collected: CollectedUplink,
    frame: DataFrame,
    verified?: VerifiedMic,
  ): Promise<UplinkOutcome> {
    const best = collected.rxInfo[0];
    const reject = (
      reason: Rejection['reason'],
      message: string,
      extra: Partial<Rejection> = {},
    ): UplinkOutcome => ({
      kind: 'rejected',
      rejection: { reason, message, devAddr: frame.devAddr, gatewayEui: best?.gatewayEui, ...extra },
    });

    const candidates = await this.options.repository.devicesByDevAddr(frame.devAddr);
    if (candidates.length === 0) return reject('unknown_device', `no session with DevAddr ${frame.devAddr}`);
    const match = findByMic(candidates, frame, verified);
    if (!match) {
      return reject('bad_mic', `MIC of a frame from DevAddr ${frame.devAddr} matches no session`, {
        devEui: candidates.length === 1 ? candidates[0]?.device.devEui : undefined,
        details: { fCnt16: frame.fCnt16, candidates: candidates.length },
      });
    }
    const { device, session: stored } = match.active;
    const last = stored.fCntUp;
    if (last !== undefined && match.fCnt32 === last) {
      return { kind: 'retransmission', device, session: stored, frame, fCnt: match.fCnt32 };
    }
    if (last !== undefined && match.fCnt32 < last && !device.skipFCntCheck) {
      return reject(
        'replay',
        `frame counter ${match.fCnt32} of ${device.devEui} is below the last accepted ${last}`,
        {
          devEui: device.devEui,
          details: { fCnt: match.fCnt32, lastFCnt: last },
        },
      );
    }
    if (last !== undefined && match.fCnt32 < last) {
      // A device allowed to reset its counter did: what follows is a new session of its
      // uplinks (their FCnts start again), so they are new records, never duplicates.
      stored.generation = nextGeneration(stored);
      stored.fCntUp = undefined;
      stored.adrHistory = [];
    }
    // Repositories hand out copies, so the session can be advanced in place.
    return this.accept(collected, frame, device, stored, match.fCnt32);
  }

  private async accept(
    collected: CollectedUplink,
    frame: DataFrame,
    device: Device,
    session: DeviceSession,
    fCnt32: number,
  ): Promise<AcceptedUplink> {
    const region = getRegion(device.regionId);
    const best = collected.rxInfo[0];
    const upDr = (best && region.dataRateIndex(best.dataRate)) ?? session.dr;
    const notes: MacNote[] = [];

    let data: Uint8Array = new Uint8Array(0);
    let macBytes = frame.fOpts;
    if (frame.fPort !== undefined && frame.frmPayload.length > 0) {
      const key = sessionKeyBytes(frame.fPort === 0 ? session.nwkSKey : session.appSKey);
      const plain = decryptFrmPayload(frame, key, fCnt32);
      if (frame.fPort === 0) macBytes = plain;
      else data = plain;
    }
    const parsed = parseMacCommands(macBytes, 'up');
    if (parsed.error) notes.push({ level: 'warn', message: `MAC commands cut short: ${parsed.error}` });

    const time = uplinkTime(collected, this.options.hostTimeSource);
    const mac = handleUplinkMac({
      session,
      commands: parsed.commands,
      rxInfo: collected.rxInfo,
      upDr,
      region,
      uplinkUnixMs: time.unixMs,
      uplinkGpsMs: time.gpsMs,
      now: new Date(),
    });
    notes.push(...mac.notes);

    let settledAck: AcceptedUplink['settledAck'];
    if (session.pendingAck) {
      settledAck = { ...session.pendingAck, acknowledged: frame.fCtrl.ack };
      session.pendingAck = undefined;
    }

    session.fCntUp = fCnt32;
    session.dr = upDr;
    session.adrHistory = recordAdrHistory(session.adrHistory, {
      fCnt: fCnt32,
      maxSnr: best?.snr ?? 0,
      gwCnt: new Set(collected.rxInfo.map((r) => r.gatewayEui)).size,
    });
    const adr = frame.fCtrl.adr ? this.adrFor(session, region) : undefined;

    const info = deviceInfo(device);
    const decoded = await this.decode(info, frame.fPort, data, new Date(time.unixMs));
    const uplink: ProcessedUplink = {
      device: info,
      devAddr: frame.devAddr,
      fCnt: fCnt32,
      session: sessionGeneration(session),
      fPort: frame.fPort,
      confirmed: frame.confirmed,
      adr: frame.fCtrl.adr,
      dr: upDr,
      data,
      warnings: decoded.warnings,
      errors: decoded.errors,
      rxInfo: collected.rxInfo,
      txInfo: {
        frequencyHz: best?.frequencyHz ?? 0,
        dataRate: best?.dataRate ?? { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
      },
      time: new Date(time.unixMs).toISOString(),
      timeSource: time.source,
      phyPayload: collected.phyPayload,
    };
    if (decoded.object !== undefined) uplink.object = decoded.object;
    return {
      kind: 'accepted',
      device,
      session,
      uplink,
      macAnswers: mac.answers,
      adr,
      status: mac.status,
      notes,
      settledAck,
    };
  }

  private adrFor(session: DeviceSession, region: Region): AdrDecision | undefined {
    const limits = adrLimits(region);
    const dataRate = region.dataRates.find((d) => d.dr === session.dr)?.dataRate;
    const decision = adrDecision({
      dr: session.dr,
      txPowerIndex: session.txPowerIndex,
      nbTrans: session.nbTrans,
      maxTxPowerIndex: limits.maxTxPowerIndex,
      requiredSnrForDr: requiredSnrDb(dataRate?.modulation === 'LORA' ? dataRate.spreadingFactor : undefined),
      installationMarginDb: this.options.installationMarginDb ?? DEFAULT_INSTALLATION_MARGIN_DB,
      minDr: limits.minDr,
      maxDr: limits.maxDr,
      history: session.adrHistory,
    });
    const changed =
      decision.dr !== session.dr ||
      decision.txPowerIndex !== session.txPowerIndex ||
      decision.nbTrans !== session.nbTrans;
    return changed ? decision : undefined;
  }

  private async decode(device: DeviceInfo, fPort: number | undefined, data: Uint8Array, at: Date) {
    const decodePayload = this.options.decodePayload;
    if (!decodePayload || fPort === undefined || fPort === 0 || device.codec.kind === 'none') {
      return { warnings: [], errors: [] } as {
        object?: Record<string, unknown>;
        warnings: string[];
        errors: string[];
      };
    }
    try {
      const result = await decodePayload(device, fPort, data, at);
      return {
        object: result.object,
        warnings: [...(result.warnings ?? [])],
        errors: [...(result.errors ?? [])],
      };
    } catch (err) {
      // A codec failure is the application's problem, not the frame's: the uplink still goes out, with the error.
      return { warnings: [], errors: [`codec failed: ${describeError(err)}`] };
    }
  }
}

/** The candidate whose session key signs this frame, at the FCnt it then has. */
export function findByMic(
  candidates: readonly ActiveDevice[],
  frame: DataFrame,
  verified?: VerifiedMic,
): Match | undefined {
  for (const active of candidates) {
    const keyHex = active.session.nwkSKey;
    const fCnt32 = reconstructFCnt(active.session.fCntUp, frame.fCnt16);
    if (signs(frame, keyHex, fCnt32, verified)) return { active, fCnt32 };
    // A device allowed to reset its counter may have started again from 0 in a low epoch.
    if (
      active.device.skipFCntCheck &&
      fCnt32 !== frame.fCnt16 &&
      signs(frame, keyHex, frame.fCnt16, verified)
    ) {
      return { active, fCnt32: frame.fCnt16 };
    }
  }
  return undefined;
}

/** Whether the key signs the frame at this FCnt: the pair checked already, or AES-CMAC says so. */
function signs(frame: DataFrame, keyHex: string, fCnt32: number, verified: VerifiedMic | undefined): boolean {
  if (verified !== undefined && verified.nwkSKey === keyHex && verified.fCnt32 === fCnt32) return true;
  return verifyDataMic(frame, sessionKeyBytes(keyHex), fCnt32);
}

/** Reception time and its provenance: GPS when any receiver had it, else the host clock. */
export function uplinkTime(
  collected: CollectedUplink,
  hostTimeSource: (() => TimeSource) | undefined,
): { unixMs: number; gpsMs?: number; source: TimeSource } {
  for (const rx of collected.rxInfo) {
    // Gateway metadata is untrusted: only a time that is a real date counts as GPS time.
    const tmms = isSaneTime(rx.tmms) ? rx.tmms : undefined;
    const parsed = rx.time ? Date.parse(rx.time) : Number.NaN;
    const unixMs = isSaneTime(parsed) ? parsed : tmms !== undefined ? gpsToUnixMs(tmms) : undefined;
    if (unixMs !== undefined && isSaneTime(unixMs)) {
      return { unixMs, gpsMs: tmms ?? unixToGpsMs(unixMs), source: 'gps' };
    }
  }
  return { unixMs: collected.receivedAtMs, source: hostTimeSource?.() ?? 'host-unsynced' };
}

/** A non-negative millisecond count a Date can represent (ECMA-262 §21.4.1.1: ±8.64e15). */
function isSaneTime(ms: number | undefined): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= 8.64e15;
}
