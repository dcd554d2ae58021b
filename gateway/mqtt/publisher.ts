/**
 * Where ChirpStack-shaped events go and where downlink commands come from.
 * Two implementations share this contract: `EmbeddedPublisher` (straight into
 * our aedes broker) and `ExternalPublisher` (an mqtt.js client to any broker,
 * e.g. the farm's mosquitto). Both publish QoS 1 and keep the gateway's
 * retained `gateway/{id}/state/conn` up to date.
 */
import { isMaverickError, type MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { type DownlinkCommand, parseDownlinkCommand } from '../../proto/mqtt/command.js';

export type CommandHandler = (command: DownlinkCommand) => void | Promise<void>;
export type InvalidCommandHandler = (error: MaverickError, topic: string) => void;

export interface EventPublisher {
  /** Publishes one event (the object is serialised as JSON), QoS 1. */
  publishEvent(topic: string, json: unknown): Promise<void>;
  /** Publishes an event already serialised as JSON text, QoS 1 (what queues of events hold). */
  publishJson(topic: string, text: string): Promise<void>;
  /** Every valid `command/down` reaches `handler` parsed; invalid ones go to `onInvalid` (and the log). */
  onCommand(handler: CommandHandler, onInvalid?: InvalidCommandHandler): void;
  /** Marks the gateway OFFLINE and disconnects. */
  close(): Promise<void>;
  /** Published events, failures, commands and invalid commands so far. */
  readonly counters: PublisherCounters;
}

export interface PublisherCounters {
  published: number;
  publishFailures: number;
  commands: number;
  invalidCommands: number;
}

/** Shared command plumbing: parse, count, dispatch, never throw into the MQTT stack. */
export class CommandDispatcher {
  private handlers: { handler: CommandHandler; onInvalid?: InvalidCommandHandler }[] = [];
  readonly counters: PublisherCounters = {
    published: 0,
    publishFailures: 0,
    commands: 0,
    invalidCommands: 0,
  };

  constructor(private readonly log: Logger) {}

  add(handler: CommandHandler, onInvalid?: InvalidCommandHandler): void {
    this.handlers.push({ handler, onInvalid });
  }

  dispatch(topic: string, payload: Uint8Array): void {
    let command: DownlinkCommand;
    try {
      command = parseDownlinkCommand(topic, payload);
    } catch (err) {
      if (!isMaverickError(err)) throw err;
      this.counters.invalidCommands++;
      this.log.warn({ topic, error: err.message }, 'invalid downlink command dropped');
      for (const { onInvalid } of this.handlers) {
        try {
          onInvalid?.(err, topic);
        } catch (handlerErr) {
          this.log.error({ topic, error: String(handlerErr) }, 'invalid-command handler threw');
        }
      }
      return;
    }
    this.counters.commands++;
    for (const { handler } of this.handlers) {
      Promise.resolve()
        .then(() => handler(command))
        .catch((err: unknown) =>
          this.log.error(
            { topic, devEui: command.devEui, error: String(err) },
            'downlink command handler failed',
          ),
        );
    }
  }
}
