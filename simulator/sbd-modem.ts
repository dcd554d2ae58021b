/**
 * An Iridium 9602/9603 SBD modem in a box: the AT command subset Maverick uses
 * (AT, ATE0/1, AT&K0, AT+CSQ, AT+SBDWB, AT+SBDIX, AT+SBDRB, AT+SBDD0/1/2),
 * spoken over any duplex byte stream (an in-memory pair, a serialport mock
 * binding or a socat pty). Sessions take `latencyMs`, fail at `failureRate`
 * (reported by the modem, MO status 18) and lose messages silently at
 * `dropRate` (the network says yes, the message never arrives); signal is
 * settable. Every delivered message is counted with its credit cost
 * (RockBLOCK bills one credit per 50 bytes or part of it).
 * Source: Iridium ISU AT Command Reference v2.45.
 */
import type { Duplex } from 'node:stream';
import { encodeSbdrbFrame, formatCsq, formatSbdix, sbdChecksum } from '../proto/link/sbd-at.js';

export interface SbdEmulatorOptions {
  /** Called with each MO message that reaches the Iridium gateway; returns MT messages to queue (the regional node's answers). */
  deliver: (message: Uint8Array) => Promise<Uint8Array[] | undefined> | Uint8Array[] | undefined;
  signalBars?: number;
  latencyMs?: number;
  failureRate?: number;
  dropRate?: number;
  /** Deterministic randomness (default Math.random). */
  random?: () => number;
  moMtu?: number;
  mtMtu?: number;
  bytesPerCredit?: number;
}

export interface SbdEmulatorCounters {
  sessions: number;
  failedSessions: number;
  moDelivered: number;
  moDropped: number;
  moBytes: number;
  mtDelivered: number;
  mtBytes: number;
  credits: number;
}

export class SbdModemEmulator {
  readonly counters: SbdEmulatorCounters = {
    sessions: 0,
    failedSessions: 0,
    moDelivered: 0,
    moDropped: 0,
    moBytes: 0,
    mtDelivered: 0,
    mtBytes: 0,
    credits: 0,
  };
  signalBars: number;
  private echo = true;
  private input = Buffer.alloc(0);
  private binaryExpected: number | undefined;
  private mo: Uint8Array | undefined;
  private mt: Uint8Array | undefined;
  private readonly mtQueue: Uint8Array[] = [];
  private momsn = 0;
  private mtmsn = 0;
  private busy: Promise<void> = Promise.resolve();
  private readonly random: () => number;
  private readonly onData = (chunk: Buffer) => {
    this.input = Buffer.concat([this.input, chunk]);
    this.busy = this.busy.then(() => this.process());
  };

  constructor(
    private readonly port: Duplex,
    private readonly options: SbdEmulatorOptions,
  ) {
    this.signalBars = options.signalBars ?? 5;
    this.random = options.random ?? Math.random;
    port.on('data', this.onData);
  }

  /** Queues an MT message at the "Iridium gateway" for the next session. */
  queueMt(message: Uint8Array): void {
    this.mtQueue.push(message.slice());
  }

  get mtQueued(): number {
    return this.mtQueue.length;
  }

  private reply(...lines: string[]): void {
    this.port.write(lines.map((l) => `\r\n${l}\r\n`).join(''));
  }

  private credits(bytes: number): number {
    return Math.ceil(bytes / (this.options.bytesPerCredit ?? 50));
  }

  private async process(): Promise<void> {
    for (;;) {
      if (this.binaryExpected !== undefined) {
        const need = this.binaryExpected + 2;
        if (this.input.length < need) return;
        const message = this.input.subarray(0, this.binaryExpected);
        const sum = (this.input[this.binaryExpected]! << 8) | this.input[this.binaryExpected + 1]!;
        this.input = this.input.subarray(need);
        this.binaryExpected = undefined;
        if (sum !== sbdChecksum(message)) {
          this.reply('2', 'OK');
        } else {
          this.mo = new Uint8Array(message);
          this.reply('0', 'OK');
        }
        continue;
      }
      const cr = this.input.indexOf(0x0d);
      if (cr < 0) {
        if (this.input.length > 512) this.input = Buffer.alloc(0);
        return;
      }
      const line = this.input.subarray(0, cr).toString('latin1').replace(/^\n+/, '').trim();
      this.input = this.input.subarray(cr + 1);
      if (this.echo && line.length > 0) this.port.write(`${line}\r`);
      await this.command(line.toUpperCase());
    }
  }

  private async command(cmd: string): Promise<void> {
    if (cmd === '') return;
    if (cmd === 'AT' || cmd === 'AT&K0') return this.reply('OK');
    if (cmd === 'ATE0' || cmd === 'ATE1') {
      this.echo = cmd === 'ATE1';
      return this.reply('OK');
    }
    if (cmd === 'AT+CSQ') return this.reply(formatCsq(this.signalBars), 'OK');
    if (cmd === 'AT+SBDD0' || cmd === 'AT+SBDD2') {
      this.mo = undefined;
      if (cmd === 'AT+SBDD2') this.mt = undefined;
      return this.reply('0', 'OK');
    }
    if (cmd === 'AT+SBDD1') {
      this.mt = undefined;
      return this.reply('0', 'OK');
    }
    const wb = /^AT\+SBDWB=(\d{1,5})$/.exec(cmd);
    if (wb) {
      const length = Number(wb[1]);
      if (length < 1 || length > (this.options.moMtu ?? 340)) return this.reply('3', 'OK');
      this.binaryExpected = length;
      return this.reply('READY');
    }
    if (cmd === 'AT+SBDIX') return this.session();
    if (cmd === 'AT+SBDRB') {
      const frame = encodeSbdrbFrame(this.mt ?? new Uint8Array(0));
      this.port.write(Buffer.from(frame));
      return this.reply('OK');
    }
    this.reply('ERROR');
  }

  private async session(): Promise<void> {
    this.counters.sessions++;
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    // MO status 32: no network service; 18: connection lost (RF drop).
    const failed = this.signalBars === 0 ? 32 : this.random() < (this.options.failureRate ?? 0) ? 18 : 0;
    if (failed) {
      this.counters.failedSessions++;
      return this.reply(
        formatSbdix({
          moStatus: failed,
          momsn: this.momsn,
          mtStatus: 2,
          mtmsn: this.mtmsn,
          mtLength: 0,
          mtQueued: this.mtQueue.length,
        }),
        'OK',
      );
    }
    if (this.mo) {
      const mo = this.mo;
      this.momsn = (this.momsn + 1) & 0xffff;
      this.counters.credits += this.credits(mo.length);
      this.counters.moBytes += mo.length;
      if (this.random() < (this.options.dropRate ?? 0)) {
        this.counters.moDropped++;
      } else {
        this.counters.moDelivered++;
        const answers = await this.options.deliver(mo);
        for (const a of answers ?? []) this.queueMt(a);
      }
    }
    let mtStatus = 0;
    let mtLength = 0;
    const next = this.mtQueue.shift();
    if (next) {
      this.mtmsn = (this.mtmsn + 1) & 0xffff;
      this.counters.credits += this.credits(next.length);
      this.counters.mtBytes += next.length;
      if (this.random() < (this.options.dropRate ?? 0)) {
        // Lost on the way down: the modem saw no message.
      } else {
        this.mt = next;
        mtStatus = 1;
        mtLength = next.length;
        this.counters.mtDelivered++;
      }
    }
    this.reply(
      formatSbdix({
        moStatus: 0,
        momsn: this.momsn,
        mtStatus,
        mtmsn: this.mtmsn,
        mtLength,
        mtQueued: this.mtQueue.length,
      }),
      'OK',
    );
  }

  close(): void {
    this.port.off('data', this.onData);
  }
}
