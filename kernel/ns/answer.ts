/**
 * What happens to a verified data uplink, in two steps. In the device's uplink
 * lane, one frame after another: the checks (FCnt, MAC, ADR, codec) against the
 * session as the previous frame left it (SessionsAhead), and the hand-over to
 * the store (beforePublish) — without waiting for earlier commits, so a device
 * that sends faster than one commit per frame loses nothing. Then, in the
 * device's publish lane, in the same order: once its store has committed, the
 * session — frame counter included — is stored (a failed write leaves the
 * stored session as it was, so the device may retransmit), the `up` event goes
 * out, then status and ack events, and the Class A answer (ACK, MAC commands,
 * queued payload).
 */
import { describeError, ErrorCode, isMaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { DataFrame, MacCommand } from '../../proto/lorawan/index.js';
import type { RadioBackend, RxMetadata } from '../../proto/radio.js';
import { getRegion } from '../../proto/regions/index.js';
import type { CollectedUplink } from './dedup.js';
import type { ClassAScheduler } from './downlink.js';
import { type DownlinkQueue, MAX_CONFIRMED_ATTEMPTS } from './downlink-queue.js';
import { markRequestsSent, plannedRequests } from './mac.js';
import type { NetworkServerEvents } from './network-server-options.js';
import { regionWants } from './region-limits.js';
import type { Rejection } from './rejection.js';
import type { NetworkRepository } from './repository.js';
import type { SessionParameters } from './session.js';
import { type AheadEntry, type SessionsAhead, sameSession } from './sessions-ahead.js';
import type { TransmitResult } from './transmitter.js';
import type { Device, DeviceSession, PendingMacRequest, RegionId } from './types.js';
import { type AcceptedUplink, deviceInfo, type UplinkProcessor, type VerifiedMic } from './uplink.js';
import type { DeviceInfo, ProcessedUplink } from './uplink-types.js';

type Events = NetworkServerEvents;

export interface AnswerContext {
  repository: NetworkRepository;
  /** Sessions as the device's uplinks in flight left them (read them here, not in the repository). */
  sessions: SessionsAhead;
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
  /** Runs a downlink attempt in the device's downlink lane, never in its uplink lane. */
  submitDownlink: (devEui: string, attempt: () => Promise<void>) => void;
  /** Runs a short session update in the device's uplink lane (after the uplinks queued before it). */
  inUplinkLane: (devAddr: string, task: () => Promise<void>) => Promise<void>;
  /** Runs `task` in the device's publish lane: after what the device's earlier frames queued there. */
  afterEarlier: (devAddr: string, task: () => Promise<void>) => void;
}

export async function answerUplink(
  ctx: AnswerContext,
  collected: CollectedUplink,
  frame: DataFrame,
  verified?: VerifiedMic,
): Promise<void> {
  const outcome = await ctx.uplinks.process(collected, frame, verified);
  if (outcome.kind === 'rejected') return ctx.reject(outcome.rejection);
  if (outcome.kind === 'retransmission') {
    ctx.count('retransmissions');
    ctx.logger.debug(
      { devEui: outcome.device.devEui, fCnt: outcome.fCnt },
      'retransmission; no new uplink event',
    );
    // The device did not get our ACK: acknowledge again (§4.3.1.2), nothing else changes — once
    // the frame it repeats is stored (it may still be on its way to the store).
    if (frame.confirmed) {
      ctx.afterEarlier(frame.devAddr, async () =>
        respond(ctx, collected, outcome.device, outcome.session, frame, [], true),
      );
    }
    return;
  }
  const accepted = outcome;
  const ahead = ctx.sessions.advance(accepted.session);
  let stored: Promise<void> | undefined;
  try {
    stored = ctx.beforePublish?.(accepted.uplink);
  } catch (err) {
    // A store that throws instead of rejecting fails this uplink the same way.
    stored = Promise.reject(err);
  }
  // Awaited in the publish lane; until then a failure must not count as unhandled.
  stored?.catch(() => undefined);
  ctx.afterEarlier(frame.devAddr, () => publishStored(ctx, collected, frame, accepted, ahead, stored));
}

/** The second step, in the device's publish lane: wait for the store, then session, events, answer. */
async function publishStored(
  ctx: AnswerContext,
  collected: CollectedUplink,
  frame: DataFrame,
  accepted: AcceptedUplink,
  ahead: AheadEntry,
  stored: Promise<void> | undefined,
): Promise<void> {
  const info = accepted.uplink.device;
  try {
    await stored;
  } catch (err) {
    ctx.sessions.settle(ahead);
    const conflict = isMaverickError(err) && err.code === ErrorCode.StoreConflict;
    if (conflict) {
      // Evidence would be lost silently otherwise: an alarm event besides the rejection.
      ctx.emit('log', {
        device: info,
        level: 'error',
        code: 'STORE_CONFLICT',
        description: describeError(err),
        context: { fCnt: accepted.uplink.fCnt, session: accepted.uplink.session },
      });
    }
    return ctx.reject({
      reason: conflict ? 'store_conflict' : 'store_failed',
      message: `uplink ${accepted.uplink.fCnt} of ${info.devEui} could not be stored: ${describeError(err)}`,
      devEui: info.devEui,
      devAddr: frame.devAddr,
      gatewayEui: collected.rxInfo[0]?.gatewayEui,
    });
  }
  await storeSession(ctx, ahead, accepted.session, 'session could not be stored after the uplink');
  ctx.count('uplinks_accepted');
  ctx.emit('up', accepted.uplink);
  emitSideEvents(ctx, accepted);
  respond(ctx, collected, accepted.device, accepted.session, frame, accepted.macAnswers, false, accepted);
}

/**
 * Stores a session taken ahead (unless the device rejoined meanwhile: then it is moot and the
 * join's session must stay) and settles its entry.
 */
async function storeSession(
  ctx: AnswerContext,
  ahead: AheadEntry,
  session: DeviceSession,
  failure: string,
): Promise<void> {
  try {
    const current = await ctx.repository.getSession(session.devEui, true);
    if (ctx.sessions.isCurrent(ahead) && current && sameSession(current, session)) {
      await ctx.repository.putSession(session);
    }
  } catch (err) {
    // The uplink is stored but the counter is not: a retransmission would be stored twice, so say it loudly.
    ctx.count('session_store_failed');
    ctx.logger.error({ devEui: session.devEui, err: describeError(err) }, failure);
  } finally {
    ctx.sessions.settle(ahead);
  }
}

/**
 * What the ACK bit (or its absence) means for the confirmed payload that went out last: an
 * acknowledged one leaves the queue; an unacknowledged one stays for another attempt until it
 * has had MAX_CONFIRMED_ATTEMPTS. True when the outcome is final (an `ack` event is due).
 */
function settleConfirmed(
  queue: DownlinkQueue,
  devEui: string,
  settled: { downlinkId: string; acknowledged: boolean },
): boolean {
  const item = queue.list(devEui).find((q) => q.id === settled.downlinkId);
  if (!item) return true;
  if (settled.acknowledged || (item.attempts ?? 0) >= MAX_CONFIRMED_ATTEMPTS) {
    queue.remove(devEui, item.id);
    return true;
  }
  return false;
}

function emitSideEvents(ctx: AnswerContext, accepted: AcceptedUplink): void {
  const info = accepted.uplink.device;
  if (accepted.status) ctx.emit('status', { device: info, ...accepted.status });
  if (accepted.settledAck && settleConfirmed(ctx.queue, info.devEui, accepted.settledAck)) {
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

/**
 * Plans the Class A answer from the session as the uplink left it and hands the attempt to the
 * device's downlink lane: the uplink lane moves on at once, whatever the gateway does.
 */
function respond(
  ctx: AnswerContext,
  collected: CollectedUplink,
  device: Device,
  session: DeviceSession,
  frame: DataFrame,
  answers: MacCommand[],
  retransmission: boolean,
  accepted?: AcceptedUplink,
): void {
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
  if (!route) {
    ctx.logNoRoute(info);
    return;
  }
  const upDr = region.dataRateIndex(route.rx.dataRate) ?? session.dr;
  ctx.submitDownlink(device.devEui, () =>
    sendAnswer(ctx, info, session, {
      backend: route.backend,
      region,
      rx: route.rx,
      upDr,
      ack: frame.confirmed,
      mac,
      macPending: pending,
      force,
    }),
  );
}

/** One downlink attempt: waits for the gateway, then books what went out in the session. */
async function sendAnswer(
  ctx: AnswerContext,
  info: DeviceInfo,
  planned: DeviceSession,
  request: Omit<Parameters<ClassAScheduler['sendData']>[0], 'session'>,
): Promise<void> {
  // The downlink counter may have moved since the uplink (an earlier answer went out meanwhile).
  const session = await ctx.sessions.getSession(info.devEui);
  if (!session || session.devAddr !== planned.devAddr) return; // rejoined meanwhile: the answer is moot
  let result: Awaited<ReturnType<ClassAScheduler['sendData']>>;
  try {
    result = await ctx.scheduler.sendData({ ...request, session });
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
  // nFCntDown advanced (and pending MAC/ACK noted) only now that a gateway took the frame; the
  // change is merged into the newest session in the uplink lane (so the device's next frames see
  // it) and stored in the publish lane after the uplinks before it, so no write undoes another.
  const fCntDown = result.fCntDown ?? session.nFCntDown - 1;
  await ctx.inUplinkLane(session.devAddr, async () => {
    const current = await ctx.sessions.getSession(info.devEui);
    if (!current || current.devAddr !== session.devAddr) return;
    current.nFCntDown = Math.max(current.nFCntDown, fCntDown + 1);
    if (result.macIncluded) markRequestsSent(current, request.macPending, new Date());
    if (result.item?.confirmed) current.pendingAck = { downlinkId: result.item.id, fCntDown };
    const ahead = ctx.sessions.advance(current);
    ctx.afterEarlier(session.devAddr, () =>
      storeSession(ctx, ahead, current, 'session could not be stored after a downlink'),
    );
  });
}
