/**
 * The AT command channel of a RAK3172 (RUI3 firmware) on a serial port: splits
 * the byte stream into lines with @serialport/parser-readline, runs one command
 * at a time (RUI3 AT Command Manual: "always wait for the response ... before
 * sending the next command"), and hands every unsolicited `+EVT:` line to the
 * backend. A line longer than MAX_LINE bytes is garbage (wrong baud rate, or not
 * a RUI3 module): it is dropped and counted instead of buffered without bound.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

/** RUI3's longest legitimate line is an RXP2P event with a 255-byte payload in hex (~530 characters). */
export const MAX_LINE = 1024;

export interface AtReply {
  /** Value lines that came before the status line. */
  lines: string[];
  /** `OK`, or the RUI3 error status (`AT_ERROR`, `AT_PARAM_ERROR`, `AT_BUSY_ERROR`, ...). */
  status: string;
}

interface InFlight {
  command: string;
  lines: string[];
  resolve(reply: AtReply): void;
  reject(err: MaverickError): void;
  timer: NodeJS.Timeout;
}

const RXP2P = /^\+EVT:RXP2P:(-?\d{1,4}):(-?\d{1,4}):((?:[0-9A-Fa-f]{2}){1,255})$/;

/** Parses `+EVT:RXP2P:<rssi>:<snr>:<payload hex>`; undefined for anything else. */
export function parseRxP2pEvent(
  line: string,
): { rssi: number; snr: number; payload: Uint8Array } | undefined {
  const m = RXP2P.exec(line);
  if (!m) return undefined;
  return {
    rssi: Number(m[1]),
    snr: Number(m[2]),
    payload: Uint8Array.from(Buffer.from(m[3] as string, 'hex')),
  };
}

const STATUS_LINE = /^(OK|AT_[A-Z_]*ERROR|AT_COMMAND_NOT_FOUND|AT_NO_NETWORK_JOINED)$/;

export class AtChannel {
  private parser = this.newParser();
  private bytesSinceLine = 0;
  private discarding = false;
  private inFlight: InFlight | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  readonly stats = { lines: 0, overlongLines: 0, commandTimeouts: 0, strayLines: 0 };

  constructor(
    private readonly write: (bytes: Uint8Array) => boolean,
    private readonly onEvent: (line: string) => void,
    private readonly timeoutMs: number,
  ) {}

  /** Feeds bytes from the port. */
  push(chunk: Buffer): void {
    let data = chunk;
    if (this.discarding) {
      const newline = data.indexOf(0x0a);
      if (newline < 0) return;
      this.discarding = false;
      data = data.subarray(newline + 1);
    }
    const lastNewline = data.lastIndexOf(0x0a);
    this.bytesSinceLine = lastNewline < 0 ? this.bytesSinceLine + data.length : data.length - lastNewline - 1;
    if (this.bytesSinceLine > MAX_LINE) {
      // Drop the overlong line and everything up to the next newline.
      this.stats.overlongLines++;
      this.parser.destroy();
      this.parser = this.newParser();
      this.bytesSinceLine = 0;
      this.discarding = true;
      if (lastNewline >= 0) this.parser.write(data.subarray(0, lastNewline + 1));
      return;
    }
    this.parser.write(data);
  }

  /** Forgets partial input and fails the command in flight (the port was reopened or lost). */
  reset(reason: string): void {
    this.parser.destroy();
    this.parser = this.newParser();
    this.bytesSinceLine = 0;
    this.discarding = false;
    this.fail(new MaverickError(ErrorCode.RadioSerialOpen, `AT command interrupted: ${reason}`));
  }

  /** Sends `command` and resolves with its reply; rejects with MaverickError on timeout or a lost port. */
  command(command: string): Promise<AtReply> {
    const run = this.queue.then(() => this.send(command));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(command: string): Promise<AtReply> {
    return new Promise<AtReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stats.commandTimeouts++;
        this.fail(
          new MaverickError(ErrorCode.RadioTxTimeout, `no answer to ${command} within ${this.timeoutMs} ms`, {
            hint: 'check the module is a RAK3172 with RUI3 firmware and the baud rate matches (default 115200)',
          }),
        );
      }, this.timeoutMs);
      this.inFlight = { command, lines: [], resolve, reject, timer };
      if (!this.write(new TextEncoder().encode(`${command}\r\n`))) {
        this.fail(
          new MaverickError(ErrorCode.RadioSerialOpen, `cannot send ${command}: serial port is not open`),
        );
      }
    });
  }

  private fail(err: MaverickError): void {
    const f = this.inFlight;
    if (!f) return;
    this.inFlight = undefined;
    clearTimeout(f.timer);
    f.reject(err);
  }

  private newParser(): ReadlineParser {
    const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    parser.on('data', (line: string) => this.onLine(line.replace(/\r$/, '').trim()));
    return parser;
  }

  private onLine(line: string): void {
    if (line === '') return;
    this.stats.lines++;
    if (line.startsWith('+EVT:')) {
      this.onEvent(line);
      return;
    }
    const f = this.inFlight;
    if (!f) {
      this.stats.strayLines++;
      return;
    }
    if (line === f.command) return; // some RUI3 builds echo the command
    if (STATUS_LINE.test(line)) {
      this.inFlight = undefined;
      clearTimeout(f.timer);
      f.resolve({ lines: f.lines, status: line });
      return;
    }
    f.lines.push(line);
  }
}
