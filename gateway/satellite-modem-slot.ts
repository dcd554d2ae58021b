/**
 * The satellite modem as the message link sees it, surviving a modem that is
 * absent or unplugged: the serial port is opened lazily at each usability
 * check, a failure leaves the link down (logged once, then quietly retried),
 * and a modem that stops answering is closed and reopened at the next check.
 * The gateway never fails to start because of the satellite modem.
 */

import { describeError, ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import { SBD_MO_MTU } from '../proto/link/fragment.js';
import type { MessageTransport } from '../proto/link/transport.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { SbdModemCounters } from './link/sbd-modem.js';

/** An opened modem: the transport plus a way to let go of its port. */
export type OpenedModem = MessageTransport & { close(): void; readonly counters?: SbdModemCounters };

export interface SatelliteModemSlotOptions {
  /** Serial device of the modem (used in logs and by the default opener). */
  path: string;
  baudRate?: number;
  /** Opens the modem; default `openSbdModem(path, { baudRate })`. Tests pass an in-memory modem. */
  open?: () => Promise<OpenedModem>;
  logger?: Logger;
}

export class SatelliteModemSlot implements MessageTransport {
  readonly moMtu = SBD_MO_MTU;
  private modem: OpenedModem | undefined;
  private opening: Promise<OpenedModem | undefined> | undefined;
  private failures = 0;
  private closed = false;
  private readonly handlers = new Set<(message: Uint8Array) => void>();
  private offModem: (() => void) | undefined;
  private readonly log: Logger;
  private readonly open: () => Promise<OpenedModem>;

  constructor(private readonly options: SatelliteModemSlotOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'satellite-modem', path: options.path });
    this.open =
      options.open ??
      // serialport is loaded at the first open, not with the gateway: most have no modem plugged in.
      (async () => {
        const { openSbdModem } = await import('./link/sbd-modem.js');
        return openSbdModem(options.path, { baudRate: options.baudRate ?? 19_200, logger: options.logger });
      });
  }

  /** Whether a modem is open right now. */
  get connected(): boolean {
    return this.modem !== undefined;
  }

  /** Counters of the modem open now (sessions, MO/MT messages). */
  get counters(): SbdModemCounters | undefined {
    return this.modem?.counters;
  }

  private async ensure(): Promise<OpenedModem | undefined> {
    if (this.modem || this.closed) return this.modem;
    this.opening ??= this.tryOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async tryOpen(): Promise<OpenedModem | undefined> {
    try {
      const modem = await this.open();
      if (this.closed) {
        modem.close();
        return undefined;
      }
      this.modem = modem;
      this.offModem = modem.onMessage((m) => {
        for (const h of this.handlers) h(m);
      });
      this.log.info({ afterFailures: this.failures }, 'satellite modem connected');
      this.failures = 0;
      return modem;
    } catch (err) {
      this.failures++;
      // Logged loudly once, then quietly: a gateway without its modem retries every check.
      const entry = { err: describeError(err), attempts: this.failures };
      if (this.failures === 1)
        this.log.warn(entry, 'satellite modem not available; the satellite link stays down until it answers');
      else this.log.debug(entry, 'satellite modem still not available');
      return undefined;
    }
  }

  /** Lets go of a modem that stopped answering; the next check reopens it. */
  private drop(err: unknown): void {
    if (!this.modem) return;
    this.log.warn(
      { err: describeError(err) },
      'satellite modem stopped answering; reopening at the next check',
    );
    this.offModem?.();
    this.offModem = undefined;
    this.modem.close();
    this.modem = undefined;
  }

  private async use<T>(what: string, fn: (modem: OpenedModem) => Promise<T>): Promise<T> {
    const modem = this.modem;
    if (!modem)
      throw new MaverickError(
        ErrorCode.LinkDown,
        `the satellite modem on ${this.options.path} is not connected`,
        {
          hint: `plug in the modem or fix [regional] sbd_path (${what} not done)`,
        },
      );
    try {
      return await fn(modem);
    } catch (err) {
      // A timeout means no modem on the line any more (cable pulled, power lost); anything else is one failed session.
      if (!isMaverickError(err) || err.code === ErrorCode.LinkTimeout) this.drop(err);
      throw isMaverickError(err)
        ? err
        : new MaverickError(ErrorCode.LinkModem, `satellite modem ${what} failed`, { cause: err });
    }
  }

  async isUsable(): Promise<boolean> {
    if (!(await this.ensure())) return false;
    try {
      return await this.use('signal check', (m) => m.isUsable());
    } catch {
      return false;
    }
  }

  send(message: Uint8Array): Promise<void> {
    return this.use('send', (m) => m.send(message));
  }

  poll(): Promise<void> {
    return this.use('mailbox check', (m) => m.poll());
  }

  onMessage(handler: (message: Uint8Array) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  close(): void {
    this.closed = true;
    this.offModem?.();
    this.modem?.close();
    this.modem = undefined;
  }
}
