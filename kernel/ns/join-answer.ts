/**
 * What happens to a join request, in its device's join lane: the join server
 * decides (keys, DevNonce, session), the `join` event goes out, and the join
 * accept is planned for RX1/RX2 and handed to the device's downlink lane.
 */
import { describeError } from '../../proto/errors.js';
import type { JoinRequestFrame } from '../../proto/lorawan/index.js';
import { getRegion } from '../../proto/regions/index.js';
import type { AnswerContext } from './answer.js';
import type { CollectedUplink } from './dedup.js';
import { joinAcceptPlans } from './downlink.js';
import type { JoinServer } from './join-server.js';
import type { Transmitter } from './transmitter.js';
import { deviceInfo } from './uplink.js';

export interface JoinContext extends AnswerContext {
  joinServer: JoinServer;
  transmitter: Transmitter;
}

export async function answerJoin(
  ctx: JoinContext,
  collected: CollectedUplink,
  frame: JoinRequestFrame,
): Promise<void> {
  const outcome = await ctx.joinServer.handle(frame);
  if (!outcome.ok) return ctx.reject({ ...outcome.rejection, gatewayEui: collected.rxInfo[0]?.gatewayEui });
  ctx.count('joins');
  ctx.sessions.forget(outcome.device.devEui);
  const info = deviceInfo(outcome.device);
  // The gateway journals joins for people (gateway/journal.ts); this is the trace.
  ctx.logger.debug({ devEui: info.devEui, devAddr: outcome.session.devAddr }, 'device joined');
  ctx.emit('join', {
    device: info,
    devAddr: outcome.session.devAddr,
    joinNonce: outcome.joinNonce,
    time: new Date(collected.receivedAtMs).toISOString(),
    rxInfo: collected.rxInfo,
  });
  const route = ctx.routeFor(collected.rxInfo);
  if (!route) return ctx.logNoRoute(info);
  const region = getRegion(outcome.device.regionId);
  const upDr = region.dataRateIndex(route.rx.dataRate) ?? 0;
  let plans: ReturnType<typeof joinAcceptPlans>;
  try {
    plans = joinAcceptPlans(region, route.rx, upDr, outcome.joinAccept);
  } catch (err) {
    ctx.count('downlinks_unplannable');
    ctx.logger.warn({ devEui: info.devEui, err: describeError(err) }, 'join accept could not be planned');
    return;
  }
  // The join accept waits for its TX_ACK in the device's downlink lane, not in its join lane.
  ctx.submitDownlink(info.devEui, async () => {
    const result = await ctx.transmitter.transmit(route.backend, route.rx.gatewayEui, region, plans);
    ctx.reportTransmit(info, result, undefined, undefined);
  });
}
