/**
 * What happens to a verified data uplink: it is stored (beforePublish) before
 * its event goes out and before the session — frame counter included — moves
 * on, so a failed write leaves the device free to retransmit; then status and
 * ack events, and the Class A answer (ACK, MAC commands, queued payload).
 */
import { describeError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { DataFrame, MacCommand } from '../../proto/lorawan/index.js';
import type { RadioBackend, RxMetadata } from '../../proto/radio.js';
import { getRegion } from '../../proto/regions/index.js';
import type { CollectedUplink } from './dedup.js';
import type { ClassAScheduler } from './downlink.js';
import type { DownlinkQueue } from './downlink-queue.js';
import { plannedRequests } from './mac.js';
import { regionWants } from './region-limits.js';
import type { Rejection } from './rejection.js';
import type { NetworkRepository } from './repository.js';
import type { SessionParameters } from './session.js';
import type { TransmitResult } from './transmitter.js';
import type { Device, DeviceSession, PendingMacRequest, RegionId } from './types.js';
import { type AcceptedUplink, deviceInfo, type UplinkProcessor } from './uplink.js';
import type {
  AckEvent,
  DeviceInfo,
  JoinEvent,
  LogEvent,
  ProcessedUplink,
  StatusEvent,
  TxAckEvent,
} from './uplink-types.js';

type Events = {
  up: [ProcessedUplink];
  join: [JoinEvent];
  ack: [AckEvent];
  txack: [TxAckEvent];
  status: [StatusEvent];
  log: [LogEvent];
  rejected: [Rejection];
};

export interface AnswerContext {
  repository: NetworkRepository;
  uplinks: UplinkProcessor;
  scheduler: ClassAScheduler;
  queue: DownlinkQueue;
  logger: Logger;
  beforePublish?: (uplink: ProcessedUplink) => Promise<void>;
  devStatusIntervalMs: number;
  parametersFor: (regionId: RegionId) => SessionParameters;
  routeFor: (rxInfo: readonly RxMetadata[]) => { backend: RadioBackend; rx: RxMetadata } | undefined;
  count: (name: string) => void;
  reject: (rejection: Rejection) => void;
  emit: <K extends keyof Events>(event: K, ...args: Events[K]) => void;
  reportTransmit: (info: DeviceInfo, result: TransmitResult, downlinkId?: string, fCntDown?: number) => void;
  logNoRoute: (info: DeviceInfo) => void;
}

export async function answerUplink(
  ctx: AnswerContext,
  collected: CollectedUplink,
  frame: DataFrame,
): Promise<void> {
  const outcome = await ctx.uplinks.process(collected, frame);
  if (outcome.kind === 'rejected') return ctx.reject(outcome.rejection);
  if (outcome.kind === 'retransmission') {
    ctx.count('retransmissions');
    ctx.logger.debug(
      { devEui: outcome.device.devEui, fCnt: outcome.fCnt },
      'retransmission; no new uplink event',
    );
    // The device did not get our ACK: acknowledge again (§4.3.1.2), nothing else changes.
    if (frame.confirmed) await respond(ctx, collected, outcome.device, outcome.session, frame, [], true);
    return;
  }
  const accepted = outcome;
  const info = accepted.uplink.device;
  if (ctx.beforePublish) {
    try {
      await ctx.beforePublish(accepted.uplink);
    } catch (err) {
      return ctx.reject({
        reason: 'store_failed',
        message: `uplink ${accepted.uplink.fCnt} of ${info.devEui} could not be stored: ${describeError(err)}`,
        devEui: info.devEui,
        devAddr: frame.devAddr,
        gatewayEui: collected.rxInfo[0]?.gatewayEui,
      });
    }
  }
  try {
    await ctx.repository.putSession(accepted.session);
  } catch (err) {
    // The uplink is stored but the counter is not: a retransmission would be stored twice, so say it loudly.
    ctx.count('session_store_failed');
    ctx.logger.error(
      { devEui: info.devEui, err: describeError(err) },
      'session could not be stored after the uplink',
    );
  }
  ctx.count('uplinks_accepted');
  ctx.emit('up', accepted.uplink);
  emitSideEvents(ctx, accepted);
  await respond(
    ctx,
    collected,
    accepted.device,
    accepted.session,
    frame,
    accepted.macAnswers,
    false,
    accepted,
  );
}

function emitSideEvents(ctx: AnswerContext, accepted: AcceptedUplink): void {
  const info = accepted.uplink.device;
  if (accepted.status) ctx.emit('status', { device: info, ...accepted.status });
  if (accepted.settledAck) {
    ctx.emit('ack', {
      device: info,
      downlinkId: accepted.settledAck.downlinkId,
      acknowledged: accepted.settledAck.acknowledged,
      fCntDown: accepted.settledAck.fCntDown,
    });
  }
  for (const note of accepted.notes) {
    ctx.emit('log', {
      device: info,
      level: note.level,
      code: 'MAC',
      description: note.message,
      context: note.fields,
    });
  }
}

async function respond(
  ctx: AnswerContext,
  collected: CollectedUplink,
  device: Device,
  session: DeviceSession,
  frame: DataFrame,
  answers: MacCommand[],
  retransmission: boolean,
  accepted?: AcceptedUplink,
): Promise<void> {
  const info = deviceInfo(device);
  const region = getRegion(device.regionId);
  const mac: MacCommand[] = [...answers];
  const pending: PendingMacRequest[] = [];
  if (!retransmission) {
    // NewChannelReq goes before LinkADRReq: devices apply commands in order, and a channel mask
    // naming a channel the device does not know yet is refused (LoRaWAN 1.0.4 §5.3; AS923's 8th channel).
    const requests = plannedRequests(
      session,
      { parameters: ctx.parametersFor(device.regionId), devStatusIntervalMs: ctx.devStatusIntervalMs },
      regionWants(region),
      new Date(),
    );
    mac.push(...requests.commands);
    pending.push(...requests.pending);
    // Fixed-plan devices start with all 72 channels on; 1.0.2 devices ignore the CFList mask, so the
    // channel mask goes out in a LinkADRReq (keeping DR and power) until one is accepted.
    const maskNeeded = region.maskAfterJoin && !session.channelMaskAcked;
    const adr =
      accepted?.adr ??
      (maskNeeded
        ? { dr: session.dr, txPowerIndex: session.txPowerIndex, nbTrans: session.nbTrans }
        : undefined);
    if (adr) {
      const { dr, txPowerIndex, nbTrans } = adr;
      // One LinkADRReq per channel-mask block; the device applies the last one's DR and power (§5.3).
      for (const block of region.linkAdrChannelMask()) {
        mac.push({
          cid: 'LinkADRReq',
          dataRate: dr,
          txPower: txPowerIndex,
          chMask: block.chMask,
          chMaskCntl: block.chMaskCntl,
          nbTrans,
        });
      }
      pending.push({ cid: 'LinkADRReq', dr, txPowerIndex, nbTrans });
    }
  }
  const force = frame.fCtrl.adrAckReq;
  if (!frame.confirmed && mac.length === 0 && ctx.queue.size(device.devEui) === 0 && !force) return;

  const route = ctx.routeFor(collected.rxInfo);
  if (!route) return ctx.logNoRoute(info);
  const upDr = region.dataRateIndex(route.rx.dataRate) ?? session.dr;
  let result: Awaited<ReturnType<ClassAScheduler['sendData']>>;
  try {
    result = await ctx.scheduler.sendData({
      backend: route.backend,
      region,
      session,
      rx: route.rx,
      upDr,
      ack: frame.confirmed,
      mac,
      macPending: pending,
      force,
    });
  } catch (err) {
    // E.g. an uplink frequency outside the region (bad gateway metadata): no window can be computed.
    ctx.count('downlinks_unplannable');
    ctx.logger.warn({ devEui: info.devEui, err: describeError(err) }, 'downlink could not be planned');
    ctx.emit('log', { device: info, level: 'warn', code: 'DOWNLINK_PLAN', description: describeError(err) });
    return;
  }
  if (result.dropped) {
    ctx.emit('log', {
      device: info,
      level: 'warn',
      code: 'DOWNLINK_TOO_LARGE',
      description: `downlink ${result.dropped.id} (${result.dropped.data.length} bytes) exceeds the data rate's maximum payload; dropped`,
    });
  }
  if (result.idle || !result.transmit) return;
  ctx.reportTransmit(info, result.transmit, result.item?.id, result.fCntDown);
  if (!result.sent) return;
  try {
    // nFCntDown advanced (and pending MAC/ACK noted) only now that a gateway took the frame.
    await ctx.repository.putSession(session);
  } catch (err) {
    ctx.count('session_store_failed');
    ctx.logger.error(
      { devEui: info.devEui, err: describeError(err) },
      'session could not be stored after a downlink',
    );
  }
}
