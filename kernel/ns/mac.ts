/**
 * MAC commands the network server answers, and the ones it asks
 * (LoRaWAN 1.0.4 §5): LinkCheck and DeviceTime are answered at once;
 * LinkADR, DevStatus, RXParamSetup, RXTimingSetup and NewChannel answers
 * settle the request the server sent before. Requests go out when the
 * session differs from what the network wants, and DevStatusReq on a timer.
 */
import type { MacCommand } from '../../proto/lorawan/index.js';
import type { RxMetadata } from '../../proto/radio.js';
import type { Region } from '../../proto/regions/index.js';
import { requiredSnrDb } from './adr.js';
import type { RegionWants } from './region-limits.js';
import type { SessionParameters } from './session.js';
import type { DeviceSession, DevStatus, PendingMacRequest } from './types.js';

/** 1980-01-06T00:00:00Z in Unix milliseconds: the GPS epoch. */
const GPS_EPOCH_UNIX_MS = 315_964_800_000;
/** GPS − UTC since 2017-01-01 (IERS Bulletin C); DeviceTimeAns counts GPS seconds (§5.9). */
export const GPS_LEAP_SECONDS = 18;

export interface MacConfig {
  /** The receive-window settings the network wants devices on. */
  parameters: SessionParameters;
  /** How often to ask for battery and margin (ms); 0 disables DevStatusReq. */
  devStatusIntervalMs: number;
}

export interface MacNote {
  level: 'info' | 'warn';
  message: string;
  fields?: Record<string, unknown>;
}

export interface MacUplinkContext {
  /** The session being updated; answers change it in place. */
  session: DeviceSession;
  commands: readonly MacCommand[];
  /** Receivers of the uplink, best SNR first. */
  rxInfo: readonly RxMetadata[];
  /** The uplink's data-rate index. */
  upDr: number;
  region: Region;
  /** Time of the uplink in Unix ms, and its GPS time when a receiver had one. */
  uplinkUnixMs: number;
  uplinkGpsMs?: number;
  now: Date;
}

export interface MacUplinkResult {
  /** Answers to put in the next downlink. */
  answers: MacCommand[];
  status?: DevStatus;
  notes: MacNote[];
}

/** Processes the MAC commands of one uplink. */
export function handleUplinkMac(ctx: MacUplinkContext): MacUplinkResult {
  const { session } = ctx;
  const answers: MacCommand[] = [];
  const notes: MacNote[] = [];
  let status: DevStatus | undefined;
  const takePending = <C extends PendingMacRequest['cid']>(cid: C) => {
    const index = session.pendingMac.findIndex((p) => p.cid === cid);
    if (index < 0) return undefined;
    const [pending] = session.pendingMac.splice(index, 1);
    return pending as Extract<PendingMacRequest, { cid: C }>;
  };
  let linkAdrAcks: { power: boolean; dr: boolean; mask: boolean }[] = [];

  for (const command of ctx.commands) {
    switch (command.cid) {
      case 'LinkCheckReq':
        answers.push(linkCheckAnswer(ctx));
        break;
      case 'DeviceTimeReq':
        answers.push(deviceTimeAnswer(ctx.uplinkGpsMs ?? unixToGpsMs(ctx.uplinkUnixMs)));
        break;
      case 'LinkADRAns':
        // One answer per LinkADRReq of a block (US915 sends several); all must accept (§5.3).
        linkAdrAcks.push({ power: command.powerAck, dr: command.dataRateAck, mask: command.channelMaskAck });
        break;
      case 'DevStatusAns': {
        status = { battery: command.battery, margin: command.margin, at: ctx.now.toISOString() };
        session.lastDevStatus = status;
        takePending('DevStatusReq');
        break;
      }
      case 'RXParamSetupAns': {
        const pending = takePending('RXParamSetupReq');
        const ok = command.rx1DrOffsetAck && command.rx2DataRateAck && command.channelAck;
        if (pending && ok) {
          session.rx1DrOffset = pending.rx1DrOffset;
          session.rx2Dr = pending.rx2Dr;
          session.rx2FrequencyHz = pending.rx2FrequencyHz;
        } else if (pending) {
          notes.push({
            level: 'warn',
            message: 'device refused RXParamSetupReq',
            fields: { answer: command },
          });
        }
        break;
      }
      case 'RXTimingSetupAns': {
        const pending = takePending('RXTimingSetupReq');
        if (pending) session.rxDelay = pending.rxDelay;
        break;
      }
      case 'TxParamSetupAns':
        // An empty answer: the device took the dwell time and MaxEIRP (LoRaWAN 1.0.4 §5.12).
        if (takePending('TxParamSetupReq')) session.txParamsAcked = true;
        break;
      case 'NewChannelAns': {
        const pending = takePending('NewChannelReq');
        if (pending && command.channelFrequencyOk && command.dataRateRangeOk) {
          // Replaced, not changed in place: session copies share the record.
          session.extraChannels = {
            ...session.extraChannels,
            [String(pending.chIndex)]: pending.frequencyHz,
          };
        } else if (pending) {
          notes.push({
            level: 'warn',
            message: 'device refused NewChannelReq',
            fields: { chIndex: pending.chIndex },
          });
        }
        break;
      }
      default:
        notes.push({
          level: 'info',
          message: `MAC command ${command.cid} not handled`,
          fields: { cid: command.cid },
        });
    }
  }

  if (linkAdrAcks.length > 0) {
    const pending = takePending('LinkADRReq');
    if (pending && linkAdrAcks.every((a) => a.power && a.dr && a.mask)) {
      session.dr = pending.dr;
      session.txPowerIndex = pending.txPowerIndex;
      session.nbTrans = pending.nbTrans;
      session.channelMaskAcked = true;
    } else if (pending) {
      notes.push({ level: 'warn', message: 'device refused LinkADRReq', fields: { acks: linkAdrAcks } });
    }
    linkAdrAcks = [];
  }
  return { answers, status, notes };
}

function linkCheckAnswer(ctx: MacUplinkContext): MacCommand {
  const dataRate = ctx.region.dataRates.find((d) => d.dr === ctx.upDr)?.dataRate;
  const required = requiredSnrDb(dataRate?.modulation === 'LORA' ? dataRate.spreadingFactor : undefined);
  const bestSnr = ctx.rxInfo[0]?.snr ?? required;
  // Margin: dB above the demodulation floor of the uplink's data rate, 0..254 (§5.2).
  const margin = Math.max(0, Math.min(254, Math.floor(bestSnr - required)));
  const gwCnt = Math.min(255, new Set(ctx.rxInfo.map((r) => r.gatewayEui)).size);
  return { cid: 'LinkCheckAns', margin, gwCnt };
}

export function unixToGpsMs(unixMs: number): number {
  return unixMs - GPS_EPOCH_UNIX_MS + GPS_LEAP_SECONDS * 1000;
}

export function gpsToUnixMs(gpsMs: number): number {
  return gpsMs + GPS_EPOCH_UNIX_MS - GPS_LEAP_SECONDS * 1000;
}

/** DeviceTimeAns: whole GPS seconds and the rest in 1/256 s steps (§5.9). */
export function deviceTimeAnswer(gpsMs: number): MacCommand {
  const seconds = Math.floor(gpsMs / 1000);
  const fractions = Math.floor(((gpsMs - seconds * 1000) * 256) / 1000);
  return { cid: 'DeviceTimeAns', gpsSeconds: seconds >>> 0, fraction256: fractions };
}

export interface MacRequests {
  commands: MacCommand[];
  pending: PendingMacRequest[];
}

/** Requests to bring the device's receive settings, channels and TX parameters to the network's, and the DevStatus poll. */
export function plannedRequests(
  session: DeviceSession,
  config: MacConfig,
  wants: RegionWants,
  now: Date,
): MacRequests {
  const commands: MacCommand[] = [];
  const pending: PendingMacRequest[] = [];
  const want = config.parameters;
  if (
    session.rx1DrOffset !== want.rx1DrOffset ||
    session.rx2Dr !== want.rx2Dr ||
    session.rx2FrequencyHz !== want.rx2FrequencyHz
  ) {
    commands.push({
      cid: 'RXParamSetupReq',
      rx1DrOffset: want.rx1DrOffset,
      rx2DataRate: want.rx2Dr,
      frequencyHz: want.rx2FrequencyHz,
    });
    pending.push({
      cid: 'RXParamSetupReq',
      rx1DrOffset: want.rx1DrOffset,
      rx2Dr: want.rx2Dr,
      rx2FrequencyHz: want.rx2FrequencyHz,
    });
  }
  if (session.rxDelay !== want.rxDelay) {
    commands.push({ cid: 'RXTimingSetupReq', delay: want.rxDelay });
    pending.push({ cid: 'RXTimingSetupReq', rxDelay: want.rxDelay });
  }
  for (const { chIndex, channel } of wants.extraChannels ?? []) {
    const { frequencyHz, minDr, maxDr } = channel;
    if (session.extraChannels[chIndex] === frequencyHz) continue;
    commands.push({ cid: 'NewChannelReq', chIndex, frequencyHz, minDr, maxDr });
    pending.push({ cid: 'NewChannelReq', chIndex, frequencyHz, minDr, maxDr });
  }
  if (wants.txParams && !session.txParamsAcked) {
    const { uplinkDwellTime, downlinkDwellTime, maxEirpIndex } = wants.txParams;
    commands.push({ cid: 'TxParamSetupReq', uplinkDwellTime, downlinkDwellTime, maxEirp: maxEirpIndex });
    pending.push({ cid: 'TxParamSetupReq' });
  }
  if (config.devStatusIntervalMs > 0) {
    const last = session.devStatusRequestedAt ? Date.parse(session.devStatusRequestedAt) : Number.NaN;
    if (!(now.getTime() - last < config.devStatusIntervalMs)) {
      commands.push({ cid: 'DevStatusReq' });
      pending.push({ cid: 'DevStatusReq' });
    }
  }
  return { commands, pending };
}

/** Records requests as sent: a newer request of the same kind replaces the older one. */
export function markRequestsSent(
  session: DeviceSession,
  pending: readonly PendingMacRequest[],
  now: Date,
): void {
  for (const p of pending) {
    session.pendingMac = session.pendingMac.filter(
      (q) =>
        q.cid !== p.cid ||
        (p.cid === 'NewChannelReq' && q.cid === 'NewChannelReq' && q.chIndex !== p.chIndex),
    );
    session.pendingMac.push(p);
    if (p.cid === 'DevStatusReq') session.devStatusRequestedAt = now.toISOString();
  }
}
