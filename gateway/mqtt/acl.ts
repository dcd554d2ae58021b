/**
 * What a farm application connected to the local broker may do. Clients read
 * device events and gateway state, and write only downlink commands; the
 * gateway's own publishes go through aedes.publish and never meet this ACL.
 */
import { filterWithin, parseCommandTopic } from '../../proto/mqtt/topics.js';

/** Subscription filters a client may use, or any filter inside them. */
export const READABLE_FILTERS = ['application/#', 'gateway/+/state/#', 'gateway/+/event/log'] as const;

export function maySubscribe(filter: string): boolean {
  return READABLE_FILTERS.some((allowed) => filterWithin(filter, allowed));
}

/** Only `application/{id}/device/{devEui}/command/down` with a well-formed EUI. */
export function mayPublish(topic: string): boolean {
  try {
    parseCommandTopic(topic);
    return true;
  } catch {
    return false;
  }
}
