/**
 * Downlinks sent as PULL_RESP and waiting for their TX_ACK (PROTOCOL.TXT §6):
 * each under a random 16-bit token not in flight, settled by the matching
 * TX_ACK or by a timeout, and counted by outcome.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { TxAck, TxAckStatus } from '../../proto/radio.js';
import { countTxStatus, type SemtechUdpCounters } from './semtech-udp-counters.js';

interface PendingTx {
  gatewayEui: string;
  id: number | undefined;
  timer: NodeJS.Timeout;
  resolve: (ack: TxAck) => void;
}

/** Thousands of unacknowledged downlinks mean the forwarder is gone; more would time out too. */
export const MAX_PENDING_TX = 4096;

export function ackOf(gatewayEui: string, status: TxAckStatus, id: number | undefined): TxAck {
  return id === undefined ? { gatewayEui, status } : { gatewayEui, status, id };
}

export class PendingDownlinks {
  readonly #pending = new Map<number, PendingTx>();

  constructor(
    private readonly counters: SemtechUdpCounters,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.#pending.size;
  }

  /** A random token not in flight; pending is capped far below 65536, so the scan always finds one. */
  freeToken(): number {
    const start = Math.floor(Math.random() * 0x10000);
    for (let i = 0; i < 0x10000; i++) {
      const token = (start + i) & 0xffff;
      if (!this.#pending.has(token)) return token;
    }
    throw new MaverickError(ErrorCode.RadioTxRejected, 'semtech-udp: no free PULL_RESP token');
  }

  /** Waits for the TX_ACK of `token`; resolves TIMEOUT when none comes in time. */
  wait(token: number, gatewayEui: string, id: number | undefined): Promise<TxAck> {
    return new Promise<TxAck>((resolve) => {
      const timer = setTimeout(() => this.settle(token, 'TIMEOUT'), this.timeoutMs);
      this.#pending.set(token, { gatewayEui, id, timer, resolve });
    });
  }

  /** The gateway a pending token was sent to (undefined: none pending). */
  gatewayOf(token: number): string | undefined {
    return this.#pending.get(token)?.gatewayEui;
  }

  settle(token: number, status: TxAckStatus): void {
    const pending = this.#pending.get(token);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(token);
    countTxStatus(this.counters, status);
    if (status !== 'OK')
      this.log.warn({ gatewayEui: pending.gatewayEui, status }, 'downlink not transmitted');
    pending.resolve(ackOf(pending.gatewayEui, status, pending.id));
  }

  settleAll(status: TxAckStatus): void {
    for (const token of [...this.#pending.keys()]) this.settle(token, status);
  }
}
