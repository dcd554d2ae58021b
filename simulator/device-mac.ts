/**
 * The end device's side of the MAC layer: applies the network's requests to
 * the radio state and produces the answers (LoRaWAN 1.0.3 §5; region rules
 * from the Region's fields, RP002-1.0.4). Answers to RXParamSetupReq, RXTimingSetupReq and
 * DlChannelReq are "sticky": repeated in every uplink until a downlink
 * arrives (1.0.3 §5.4, §5.7, §5.10).
 */
import type { MacCommand } from '../proto/lorawan/index.js';
import type { Region } from '../proto/regions/index.js';
import { applyChannelMasks, type ChannelTable } from './device-channels.js';

export interface DeviceRadioState {
  channels: ChannelTable;
  enabled: Set<number>;
  dataRate: number;
  txPowerIndex: number;
  nbTrans: number;
  rx1DrOffset: number;
  rx2: { frequencyHz: number; dr: number };
  /** RX1 delay in seconds (RX2 one second later). */
  rxDelaySeconds: number;
  /** Aggregated duty cycle 1 / 2^maxDutyCycle (0: no limit beyond regulation). */
  maxDutyCycle: number;
  /** DevStatusAns battery: 0 external power, 1..254 level, 255 unknown. */
  battery: number;
  /** SNR of the last downlink, for DevStatusAns margin. */
  lastSnr: number;
  linkCheck?: { margin: number; gwCnt: number };
  /** What the last TxParamSetupReq set (plans that implement it). */
  txParams?: { uplinkDwellTime: boolean; downlinkDwellTime: boolean; maxEirpIndex: number };
  deviceTime?: { gpsSeconds: number; fraction256: number };
}

export interface MacOutcome {
  /** Sent once in the next uplink. */
  answers: MacCommand[];
  /** Repeated until the next downlink. */
  sticky: MacCommand[];
}

function inBand(region: Region, hz: number): boolean {
  return hz >= region.bandHz[0] && hz <= region.bandHz[1];
}

/** Processes the network's commands in order; consecutive LinkADRReqs form one block (LoRaWAN 1.0.4 §5.3). */
export function processDownlinkMac(
  region: Region,
  state: DeviceRadioState,
  commands: MacCommand[],
): MacOutcome {
  const out: MacOutcome = { answers: [], sticky: [] };
  for (let i = 0; i < commands.length; i++) {
    const cmd = commands[i];
    switch (cmd.cid) {
      case 'LinkADRReq': {
        const block: Extract<MacCommand, { cid: 'LinkADRReq' }>[] = [cmd];
        while (commands[i + 1]?.cid === 'LinkADRReq') block.push(commands[++i] as (typeof block)[number]);
        const ans = linkAdr(region, state, block);
        for (let k = 0; k < block.length; k++) out.answers.push(ans);
        break;
      }
      case 'DutyCycleReq':
        state.maxDutyCycle = cmd.maxDutyCycle;
        out.answers.push({ cid: 'DutyCycleAns' });
        break;
      case 'RXParamSetupReq': {
        const ans = {
          cid: 'RXParamSetupAns' as const,
          rx1DrOffsetAck: cmd.rx1DrOffset <= region.maxRx1DrOffset,
          rx2DataRateAck: region.dataRate(cmd.rx2DataRate)?.downlink === true,
          channelAck: region.isDownlinkFrequency(cmd.frequencyHz),
        };
        if (ans.rx1DrOffsetAck && ans.rx2DataRateAck && ans.channelAck) {
          state.rx1DrOffset = cmd.rx1DrOffset;
          state.rx2 = { frequencyHz: cmd.frequencyHz, dr: cmd.rx2DataRate };
        }
        out.sticky.push(ans);
        break;
      }
      case 'DevStatusReq':
        out.answers.push({
          cid: 'DevStatusAns',
          battery: state.battery,
          margin: Math.max(-32, Math.min(31, Math.round(state.lastSnr))),
        });
        break;
      case 'NewChannelReq':
        // RP002-1.0.4 §2.5/§2.8: fixed channel plans do not implement NewChannelReq.
        if (region.channelPlan === 'dynamic') out.answers.push(newChannel(region, state, cmd));
        break;
      case 'RXTimingSetupReq':
        state.rxDelaySeconds = cmd.delay === 0 ? 1 : cmd.delay;
        out.sticky.push({ cid: 'RXTimingSetupAns' });
        break;
      case 'DlChannelReq': {
        // RP002-1.0.4 §2.5/§2.8: fixed channel plans have no DlChannelReq, so a device ignores it.
        if (region.channelPlan !== 'dynamic') break;
        const channel = state.channels.get(cmd.chIndex);
        const ans = {
          cid: 'DlChannelAns' as const,
          uplinkFrequencyExists: channel !== undefined,
          channelFrequencyOk: inBand(region, cmd.frequencyHz),
        };
        if (channel && ans.channelFrequencyOk) channel.downlinkFrequencyHz = cmd.frequencyHz;
        out.sticky.push(ans);
        break;
      }
      case 'LinkCheckAns':
        state.linkCheck = { margin: cmd.margin, gwCnt: cmd.gwCnt };
        break;
      case 'DeviceTimeAns':
        state.deviceTime = { gpsSeconds: cmd.gpsSeconds, fraction256: cmd.fraction256 };
        break;
      case 'TxParamSetupReq':
        // Only plans that implement it answer (RP002-1.0.4: AS923 §2.10, AU915 §2.8); others ignore it.
        if (!region.txParams) break;
        state.txParams = {
          uplinkDwellTime: cmd.uplinkDwellTime,
          downlinkDwellTime: cmd.downlinkDwellTime,
          maxEirpIndex: cmd.maxEirp,
        };
        out.answers.push({ cid: 'TxParamSetupAns' });
        break;
      // Class B commands are ignored by this Class A device.
      default:
        break;
    }
  }
  return out;
}

function linkAdr(
  region: Region,
  state: DeviceRadioState,
  block: Extract<MacCommand, { cid: 'LinkADRReq' }>[],
): Extract<MacCommand, { cid: 'LinkADRAns' }> {
  const last = block[block.length - 1];
  const enabled = applyChannelMasks(region, state.channels, state.enabled, block);
  // 0xF keeps the current value (LoRaWAN 1.0.4 §5.3).
  const dr = last.dataRate === 0xf ? state.dataRate : last.dataRate;
  const power = last.txPower === 0xf ? state.txPowerIndex : last.txPower;
  const drUsable =
    region.dataRate(dr)?.uplink === true &&
    [...(enabled ?? state.enabled)].some((ch) => {
      const c = state.channels.get(ch);
      return c !== undefined && dr >= c.minDr && dr <= c.maxDr;
    });
  const ans = {
    cid: 'LinkADRAns' as const,
    powerAck: region.txPowerDbm(power) !== undefined,
    dataRateAck: drUsable,
    channelMaskAck: enabled !== undefined,
  };
  if (ans.powerAck && ans.dataRateAck && enabled) {
    state.enabled = enabled;
    state.dataRate = dr;
    state.txPowerIndex = power;
    state.nbTrans = last.nbTrans === 0 ? 1 : last.nbTrans;
  }
  return ans;
}

function newChannel(
  region: Region,
  state: DeviceRadioState,
  cmd: Extract<MacCommand, { cid: 'NewChannelReq' }>,
): Extract<MacCommand, { cid: 'NewChannelAns' }> {
  // RP002-1.0.4 §2.4.2, §2.10.2, ...: the default channels cannot be modified; 16 channels at most.
  const indexOk = cmd.chIndex >= region.defaultChannels.length && cmd.chIndex <= 15;
  const frequencyOk = indexOk && (cmd.frequencyHz === 0 || inBand(region, cmd.frequencyHz));
  const drOk =
    cmd.frequencyHz === 0 ||
    (cmd.minDr <= cmd.maxDr &&
      region.dataRate(cmd.minDr)?.uplink === true &&
      region.dataRate(cmd.maxDr)?.uplink === true);
  if (frequencyOk && drOk) {
    if (cmd.frequencyHz === 0) {
      state.channels.delete(cmd.chIndex);
      state.enabled.delete(cmd.chIndex);
    } else {
      state.channels.set(cmd.chIndex, { frequencyHz: cmd.frequencyHz, minDr: cmd.minDr, maxDr: cmd.maxDr });
      state.enabled.add(cmd.chIndex);
    }
  }
  return { cid: 'NewChannelAns', dataRateRangeOk: drOk, channelFrequencyOk: frequencyOk };
}
