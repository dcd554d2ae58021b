/**
 * Sends the regional node's status replies (DONE / BITMAP records,
 * proto/link/status.ts) to a modem through Iridium's DirectIP MT endpoint:
 * one TCP connection per MT message, answered by an MT confirmation. Iridium
 * queues the payload and the modem fetches it at its next SBD session, the
 * same mailbox the gateway's SBD driver already reads (+SBDIX / +SBDRB).
 * A lost MT message costs nothing but time: the gateway asks for status
 * again with its next flagged fragment.
 */
import { randomInt } from 'node:crypto';
import { createConnection } from 'node:net';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import {
  decodeMtConfirmation,
  encodeMtMessage,
  MT_CONFIRMATION_BYTES,
  type MtConfirmation,
  mtStatusMeaning,
} from '../../proto/link/directip-mt.js';
import { type Logger, silentLogger } from '../../proto/log.js';

export interface DirectIpMtTarget {
  /** Iridium's MT DirectIP host (or the emulator's). */
  host: string;
  port: number;
  /** Per message: connect, send and read the confirmation (default 15 s). */
  timeoutMs?: number;
}

export class DirectIpMtSender {
  private nextId = randomInt(0, 0x7fffffff);
  private readonly log: Logger;

  constructor(
    private readonly target: DirectIpMtTarget,
    logger: Logger = silentLogger,
  ) {
    this.log = logger.child({ component: 'directip-mt' });
  }

  /** Queues one payload for the modem; resolves with Iridium's confirmation, rejects on any failure. */
  send(imei: string, payload: Uint8Array): Promise<MtConfirmation> {
    const clientMessageId = this.nextId++ & 0x7fffffff;
    const bytes = encodeMtMessage({ clientMessageId, imei, flags: 0, payload });
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: this.target.host, port: this.target.port });
      const chunks: Buffer[] = [];
      let got = 0;
      let settled = false;
      const fail = (why: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        reject(
          new MaverickError(ErrorCode.LinkDirectIp, `DirectIP MT to ${imei}: ${why}`, {
            hint: 'check [directip] mt_host / mt_port and that the IMEI is provisioned for DirectIP MT',
            ...(cause ? { cause } : {}),
          }),
        );
      };
      socket.setTimeout(this.target.timeoutMs ?? 15_000, () => fail('no confirmation in time'));
      socket.on('error', (err) => fail(describeError(err), err));
      socket.on('connect', () => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (got < 6 + MT_CONFIRMATION_BYTES) return;
        let confirmation: MtConfirmation;
        try {
          confirmation = decodeMtConfirmation(new Uint8Array(Buffer.concat(chunks, got)));
        } catch (err) {
          return fail(describeError(err), err);
        }
        if (confirmation.clientMessageId !== clientMessageId)
          return fail(`confirmation for message ${confirmation.clientMessageId}, sent ${clientMessageId}`);
        if (confirmation.status < 0) return fail(mtStatusMeaning(confirmation.status));
        settled = true;
        socket.end();
        resolve(confirmation);
      });
      socket.on('close', () => fail('connection closed before a confirmation'));
    });
  }

  /** Sends each message in turn; failures are logged (the gateway asks again), never thrown. */
  async sendAll(imei: string, messages: readonly Uint8Array[]): Promise<number> {
    let sent = 0;
    for (const m of messages) {
      try {
        const c = await this.send(imei, m);
        sent++;
        this.log.debug({ imei, bytes: m.length, queue: c.status }, 'MT status message queued at Iridium');
      } catch (err) {
        this.log.warn(
          { imei, err: describeError(err) },
          'MT status message not queued; the gateway will ask again',
        );
      }
    }
    return sent;
  }
}
