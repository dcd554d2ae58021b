/**
 * ChirpStack `log` events for what a farm application would otherwise never
 * see: frames the network server turned away (a replayed or reset frame
 * counter, a MIC that fails for a known device, a join from an unknown or
 * mismatched device) and downlink commands that were refused. Without them a
 * sensor just goes quiet; with them the application is told why.
 *
 * A log event belongs to a device's application topic. A join from a DevEUI
 * that is not registered has no application, so it goes to
 * `gateway/{gatewayId}/event/log` with only `deviceInfo.devEui` filled in.
 */
import type { Rejection } from '../kernel/ns/rejection.js';
import type { NetworkRepository } from '../kernel/ns/repository.js';
import { deviceInfo } from '../kernel/ns/uplink.js';
import type { DeviceInfo } from '../kernel/ns/uplink-types.js';
import { type LogCode, logEventJson } from '../proto/mqtt/events.js';
import { normaliseEui } from '../proto/mqtt/topics.js';
import type { TimeSource } from '../proto/radio.js';
import { logEvent, type OutgoingEvent } from './events.js';

/** Where log events about unregistered devices go (no application to put them under). */
export function gatewayLogTopic(gatewayEui: string): string {
  return `gateway/${normaliseEui(gatewayEui, 'gatewayId')}/event/log`;
}

interface RejectionLog {
  level: 'info' | 'warn' | 'error';
  code: string;
}

/** ChirpStack's level and code for each reason a known device's frame is turned away. */
function logFor(rejection: Rejection): RejectionLog | undefined {
  switch (rejection.reason) {
    case 'replay':
      return { level: 'warn', code: 'UPLINK_F_CNT_RESET' };
    case 'bad_mic':
      return { level: 'error', code: 'UPLINK_MIC' };
    case 'unknown_device':
    case 'devnonce_reused':
      return rejection.details?.joinEui !== undefined ? { level: 'warn', code: 'OTAA' } : undefined;
    default:
      return undefined;
  }
}

function contextOf(rejection: Rejection): Record<string, unknown> {
  return {
    reason: rejection.reason,
    ...(rejection.devAddr ? { devAddr: rejection.devAddr } : {}),
    ...(rejection.gatewayEui ? { gatewayId: rejection.gatewayEui } : {}),
    ...(rejection.details ?? {}),
  };
}

/**
 * The `log` event for a rejected frame, or undefined when nothing names a
 * device (a frame from an unknown DevAddr, a malformed frame: journal only).
 */
export async function rejectionLogEvent(
  rejection: Rejection,
  repository: NetworkRepository,
  gatewayEui: string,
  timeSource: TimeSource,
): Promise<OutgoingEvent | undefined> {
  const log = logFor(rejection);
  if (!log || !rejection.devEui) return undefined;
  const device = await repository.getDevice(rejection.devEui);
  if (device) {
    return logEvent(
      {
        device: deviceInfo(device),
        level: log.level,
        code: log.code,
        description: rejection.message,
        context: contextOf(rejection),
      },
      timeSource,
    );
  }
  if (log.code !== 'OTAA') return undefined;
  return unregisteredDeviceLog(rejection, gatewayEui, timeSource);
}

function unregisteredDeviceLog(
  rejection: Rejection,
  gatewayEui: string,
  timeSource: TimeSource,
): OutgoingEvent {
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(contextOf(rejection)))
    context[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const json = logEventJson({
    time: new Date(),
    timeSource,
    device: {
      tenantId: '',
      tenantName: '',
      applicationId: '',
      applicationName: '',
      deviceProfileId: '',
      deviceProfileName: '',
      deviceName: '',
      devEui: rejection.devEui ?? '',
    },
    level: 'WARNING',
    code: 'OTAA' satisfies LogCode,
    description: `${rejection.message}; register it with \`maverick device add\``,
    context,
  });
  return { topic: gatewayLogTopic(gatewayEui), json };
}

/** ChirpStack's code for a refused downlink command. */
export type CommandRefusal = 'DOWNLINK_CODEC' | 'DOWNLINK_PAYLOAD_SIZE' | 'EXPIRED' | 'UNKNOWN';

export function commandRefusedLogEvent(
  device: DeviceInfo,
  code: CommandRefusal,
  description: string,
  context: Record<string, unknown>,
  timeSource: TimeSource,
): OutgoingEvent | undefined {
  return logEvent(
    { device, level: 'error', code, description: `downlink command refused: ${description}`, context },
    timeSource,
  );
}
