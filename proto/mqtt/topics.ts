/**
 * ChirpStack v4 MQTT topics (ChirpStack docs, "Integrations > MQTT"):
 *   application/{applicationId}/device/{devEui}/event/{eventType}
 *   application/{applicationId}/device/{devEui}/command/down
 *   gateway/{gatewayId}/state/conn            (retained; last will "OFFLINE")
 * plus the MQTT 3.1.1 topic-filter rules (§4.7) needed to enforce an ACL.
 * Pure: no I/O.
 */
import { ErrorCode, MaverickError } from '../errors.js';

export const EVENT_TYPES = ['up', 'join', 'ack', 'txack', 'status', 'log'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Every command topic, as a subscription filter. */
export const COMMAND_DOWN_FILTER = 'application/+/device/+/command/down';
/** Every device event, as a subscription filter. */
export const EVENT_FILTER = 'application/+/device/+/event/+';

const EUI64 = /^[0-9a-f]{16}$/;

/** Lower-cases and checks a 64-bit EUI given as 16 hex characters. */
export function normaliseEui(value: string, field: string): string {
  const eui = value.toLowerCase();
  if (!EUI64.test(eui)) {
    throw new MaverickError(ErrorCode.MqttBadTopic, `${field} must be 16 hex characters, got "${value}"`, {
      context: { field, value },
    });
  }
  return eui;
}

/** One topic level we write ourselves: no wildcards, separators or NUL (MQTT 3.1.1 §4.7.1). */
function checkLevel(value: string, field: string): void {
  if (value.length === 0 || /[/+#]/.test(value) || value.includes('\0')) {
    throw new MaverickError(
      ErrorCode.MqttBadTopic,
      `${field} "${value}" cannot be a topic level (empty, or contains '/', '+', '#' or NUL)`,
      { context: { field, value } },
    );
  }
}

export function eventTopic(applicationId: string, devEui: string, event: EventType): string {
  checkLevel(applicationId, 'applicationId');
  return `application/${applicationId}/device/${normaliseEui(devEui, 'devEui')}/event/${event}`;
}

export function commandDownTopic(applicationId: string, devEui: string): string {
  checkLevel(applicationId, 'applicationId');
  return `application/${applicationId}/device/${normaliseEui(devEui, 'devEui')}/command/down`;
}

export function gatewayStateTopic(gatewayEui: string): string {
  return `gateway/${normaliseEui(gatewayEui, 'gatewayId')}/state/conn`;
}

export interface CommandTopic {
  applicationId: string;
  devEui: string;
}

/**
 * Parses a concrete command topic (as published by a client). Wildcards, extra
 * levels and malformed EUIs are rejected with MqttBadTopic.
 */
export function parseCommandTopic(topic: string): CommandTopic {
  const levels = topic.split('/');
  if (
    levels.length !== 6 ||
    levels[0] !== 'application' ||
    levels[2] !== 'device' ||
    levels[4] !== 'command' ||
    levels[5] !== 'down'
  ) {
    throw new MaverickError(ErrorCode.MqttBadTopic, `"${topic.slice(0, 200)}" is not a command topic`, {
      hint: 'publish downlinks to application/{applicationId}/device/{devEui}/command/down',
    });
  }
  const applicationId = levels[1]!;
  checkLevel(applicationId, 'applicationId');
  return { applicationId, devEui: normaliseEui(levels[3]!, 'devEui') };
}

/** MQTT 3.1.1 §4.7: does `filter` (may hold + and #) match the concrete `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // §4.7.2: wildcards at the first level do not match topics starting with '$'.
  if (t[0]?.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic that `filter` can match is also matched by `allowed`.
 * This is how the broker ACL decides on a subscription: `application/+/device/x/#`
 * is inside `application/#`, while `#` or `+/device/#` are not.
 */
export function filterWithin(filter: string, allowed: string): boolean {
  const f = filter.split('/');
  const a = allowed.split('/');
  if (f.some((level, i) => level === '#' && i !== f.length - 1)) return false; // malformed filter
  for (let i = 0; i < f.length; i++) {
    const al = a[i];
    if (al === undefined) return false; // filter is deeper than anything allowed
    if (al === '#') return true;
    const fl = f[i]!;
    if (fl === '#') return false; // filter spans more than one allowed level
    if (al === '+') continue;
    if (fl === '+' || fl !== al) return false;
  }
  // "x/#" also matches "x" (§4.7.1.2), so a shorter filter is inside when the rest is '#'.
  return a.length === f.length || (a.length === f.length + 1 && a[f.length] === '#');
}
