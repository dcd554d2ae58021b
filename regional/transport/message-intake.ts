/**
 * The regional end of the message link: takes mobile-originated frames (from
 * the Iridium gateway's delivery, or the simulator's pipe), reassembles
 * items, ingests them, and answers with mobile-terminated status messages:
 * DONE when an item is settled, BITMAP when the sender asked for status.
 * Answers are kept small because every MT message costs credits.
 */
import { describeError, isMaverickError } from '../../proto/errors.js';
import { decodeFragment, itemIdHex, SBD_MT_MTU } from '../../proto/link/fragment.js';
import { packStatusMessages, type StatusRecord } from '../../proto/link/status.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { isTransientReason } from '../ack.js';
import type { RegionalNode } from '../intake.js';
import { ingestItem, type OtherItemHandler, sha256Hex } from './ingest-item.js';
import { type FragmentReassembly, Reassembler } from './reassembly.js';

export interface MessageIntakeOptions {
  node: RegionalNode;
  /** Shared with the MQTT intake so an item completed over IP drops its partial here. */
  reassembler?: FragmentReassembly;
  onOther?: OtherItemHandler;
  mtMtu?: number;
  logger?: Logger;
}

export class RegionalMessageIntake {
  readonly reassembler: FragmentReassembly;
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MessageIntakeOptions) {
    this.reassembler = options.reassembler ?? new Reassembler();
    this.log = (options.logger ?? silentLogger).child({ component: 'regional-message-intake' });
  }

  /**
   * Handles one MO message from `sender` (e.g. the modem IMEI) and returns the
   * MT messages to queue for it. Never throws for bad bytes.
   */
  handle(sender: string, bytes: Uint8Array): Promise<Uint8Array[]> {
    const run = this.queue.then(() => this.handleOne(sender, bytes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async handleOne(sender: string, bytes: Uint8Array): Promise<Uint8Array[]> {
    let records: StatusRecord[] = [];
    try {
      const fragment = decodeFragment(bytes);
      const result = await this.reassembler.accept(sender, fragment);
      if (result.state === 'settled') {
        records = [{ type: 'done', itemId: fragment.itemId, status: result.status }];
      } else if (result.state === 'partial') {
        if (fragment.wantStatus)
          records = [{ type: 'bitmap', itemId: fragment.itemId, count: result.count, bitmap: result.bitmap }];
      } else {
        const ack = await ingestItem(
          this.options.node,
          result.kind,
          result.bytes,
          `sbd:${sender}`,
          this.options.onOther,
        );
        // Fragments are identified by the hash of the transported bytes, not the item's digest.
        await this.reassembler.settle(sha256Hex(result.bytes), ack.status);
        this.log.info(
          { sender, kind: result.kind, status: ack.status, bytes: result.bytes.length },
          'item reassembled',
        );
        // A DONE record cannot say "transient": for a rejection that is the node's fault (key not
        // registered yet, store down) say nothing, so the gateway sends the item again instead of parking it.
        const transient = ack.status === 'rejected' && isTransientReason(ack.reason ?? '');
        records = transient ? [] : [{ type: 'done', itemId: fragment.itemId, status: ack.status }];
      }
    } catch (err) {
      if (!isMaverickError(err)) throw err;
      this.log.warn(
        {
          sender,
          err: describeError(err),
          id: bytes.length >= 5 ? itemIdHex(bytes.subarray(1, 5)) : undefined,
        },
        'dropped a message-link frame',
      );
      return [];
    }
    return records.length > 0 ? packStatusMessages(records, this.options.mtMtu ?? SBD_MT_MTU) : [];
  }
}
