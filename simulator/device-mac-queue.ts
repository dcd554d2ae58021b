/**
 * What the device owes the network in its next uplinks: sticky answers
 * (repeated until a downlink arrives, LoRaWAN 1.0.3 §5.4/§5.7/§5.10),
 * one-shot answers, and its own requests (LinkCheckReq, DeviceTimeReq).
 */
import { encodeMacCommands, type MacCommand, macCommandSize } from '../proto/lorawan/index.js';

/** FOpts holds at most 15 bytes (LoRaWAN 1.0.3 §4.3.1.6). */
const MAX_FOPTS = 15;

export class MacAnswerQueue {
  private sticky: MacCommand[] = [];
  private answers: MacCommand[] = [];
  private requests: MacCommand[] = [];

  get pending(): MacCommand[] {
    return [...this.sticky, ...this.answers, ...this.requests];
  }

  add(outcome: { answers: MacCommand[]; sticky: MacCommand[] }): void {
    this.answers.push(...outcome.answers);
    this.sticky.push(...outcome.sticky);
  }

  request(cid: 'LinkCheckReq' | 'DeviceTimeReq'): void {
    if (!this.requests.some((r) => r.cid === cid)) this.requests.push({ cid });
  }

  /** A Class A downlink arrived: sticky answers have been heard. */
  downlinkReceived(): void {
    this.sticky = [];
  }

  clear(): void {
    this.sticky = [];
    this.answers = [];
    this.requests = [];
  }

  /** Whole commands that fit in FOpts, sticky first; the rest waits for the next uplink. */
  takeFOpts(): Uint8Array {
    const taken: MacCommand[] = [];
    let size = 0;
    for (const cmd of this.pending) {
      const n = macCommandSize(cmd.cid);
      if (size + n > MAX_FOPTS) break;
      taken.push(cmd);
      size += n;
    }
    const sent = new Set(taken);
    this.answers = this.answers.filter((c) => !sent.has(c));
    this.requests = this.requests.filter((c) => !sent.has(c));
    return encodeMacCommands(taken, 'up');
  }
}
