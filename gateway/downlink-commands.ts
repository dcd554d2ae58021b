/**
 * Turns an authorised `command/down` into a queued downlink, as ChirpStack
 * does: the application in the topic must be the device's (its name or its
 * ChirpStack UUID), an `object` goes through the device's codec, `id` becomes
 * the queue item id, and `expiresAt` is honoured. Every refusal is written to
 * the journal and, when the device is known, published as a `log` event so
 * the application learns why its downlink never went out.
 */
import type { CodecRunner } from '../kernel/codec/index.js';
import type { NetworkServer } from '../kernel/ns/index.js';
import type { NetworkRepository } from '../kernel/ns/repository.js';
import { deviceInfo } from '../kernel/ns/uplink.js';
import { describeError, ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import type { DownlinkCommand } from '../proto/mqtt/command.js';
import { applicationUuid } from '../proto/mqtt/name-uuid.js';
import { parseCommandTopic } from '../proto/mqtt/topics.js';
import type { TimeSource } from '../proto/radio.js';
import { type CommandRefusal, commandRefusedLogEvent } from './event-logs.js';
import type { OutgoingEvent } from './events.js';

export interface DownlinkCommandDeps {
  repository: NetworkRepository;
  codecs: CodecRunner;
  ns: NetworkServer;
  publish: (event: OutgoingEvent | undefined) => void;
  logger: Logger;
  timeSource: () => TimeSource;
  now?: () => number;
}

/** A refusal that carries ChirpStack's log code for it. */
function refusal(logCode: CommandRefusal, message: string): MaverickError {
  return new MaverickError(ErrorCode.MqttBadCommand, message, { context: { logCode } });
}

function logCodeOf(err: unknown): CommandRefusal {
  const logCode = isMaverickError(err) ? err.context?.logCode : undefined;
  if (typeof logCode === 'string') return logCode as CommandRefusal;
  return isMaverickError(err, ErrorCode.LorawanDownlink) && /bytes/.test(err.message)
    ? 'DOWNLINK_PAYLOAD_SIZE'
    : 'UNKNOWN';
}

/** The queue id of the downlink, or undefined when it was refused (journal + `log` event). */
export async function handleDownlinkCommand(
  command: DownlinkCommand,
  deps: DownlinkCommandDeps,
): Promise<string | undefined> {
  const device = await deps.repository.getDevice(command.devEui);
  const context = { applicationId: command.applicationId, ...(command.id ? { id: command.id } : {}) };
  if (!device) {
    deps.logger.warn({ devEui: command.devEui, ...context }, 'downlink command refused: no such device');
    return undefined;
  }
  try {
    const topicApp = command.applicationId;
    if (topicApp !== device.applicationId && topicApp !== applicationUuid(device.applicationId)) {
      throw refusal(
        'UNKNOWN',
        `the topic names application ${topicApp}, but device ${device.devEui} belongs to ${device.applicationId}`,
      );
    }
    const now = (deps.now ?? Date.now)();
    if (command.expiresAt && command.expiresAt.getTime() <= now) {
      throw refusal('EXPIRED', `expiresAt ${command.expiresAt.toISOString()} has already passed`);
    }
    let data = command.data;
    let fPort = command.fPort;
    if (!data && command.object) {
      const encoded = await deps.codecs.encodeDownlink(device.codec, command.object);
      if (encoded.errors.length || !encoded.bytes)
        throw refusal('DOWNLINK_CODEC', encoded.errors.join('; ') || 'the codec gave no bytes');
      data = encoded.bytes;
      fPort = encoded.fPort ?? fPort;
    }
    return await deps.ns.enqueueDownlink(command.devEui, {
      fPort,
      confirmed: command.confirmed,
      data: data ?? new Uint8Array(),
      ...(command.id ? { id: command.id } : {}),
      ...(command.expiresAt ? { expiresAt: command.expiresAt.toISOString() } : {}),
    });
  } catch (err) {
    const code = logCodeOf(err);
    const description = describeError(err);
    deps.logger.warn(
      { devEui: device.devEui, code, ...context, err: description },
      'downlink command refused',
    );
    deps.publish(commandRefusedLogEvent(deviceInfo(device), code, description, context, deps.timeSource()));
    return undefined;
  }
}

/** A command whose payload did not parse: refused, and reported to the device's application. */
export async function reportInvalidCommand(
  error: MaverickError,
  topic: string,
  deps: Pick<DownlinkCommandDeps, 'repository' | 'publish' | 'logger' | 'timeSource'>,
): Promise<void> {
  deps.logger.warn({ err: error.message, topic }, 'invalid downlink command');
  let devEui: string;
  try {
    devEui = parseCommandTopic(topic).devEui;
  } catch {
    return;
  }
  const device = await deps.repository.getDevice(devEui);
  if (!device) return;
  deps.publish(
    commandRefusedLogEvent(deviceInfo(device), 'UNKNOWN', error.message, { topic }, deps.timeSource()),
  );
}
