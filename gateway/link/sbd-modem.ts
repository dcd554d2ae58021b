/**
 * Driver for an Iridium SBD modem (9602 / 9603, e.g. RockBLOCK) over a serial
 * stream, following the Iridium ISU AT Command Reference:
 *   AT+CSQ               signal bars 0..5, checked before spending credits
 *   AT+SBDWB=<len>       READY, then message + 2-byte sum checksum, result 0..3
 *   AT+SBDIX             session: +SBDIX: MO status, MOMSN, MT status, MTMSN, MT length, MT queued
 *   AT+SBDRB             the MT message: 2-byte length + message + 2-byte checksum
 *   AT+SBDD0             clear the MO buffer (so a mailbox check sends nothing again)
 * Commands are serialised; every wait has a timeout; a garbled answer is a
 * LinkModem error, never a crash.
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { SBD_MO_MTU, SBD_MT_MTU } from '../../proto/link/fragment.js';
import {
  encodeSbdwbPayload,
  moSucceeded,
  parseCsq,
  parseSbdix,
  parseSbdrbFrame,
  parseSbdwbResult,
  type SbdixResult,
} from '../../proto/link/sbd-at.js';
import type { MessageTransport } from '../../proto/link/transport.js';
import { type Logger, silentLogger } from '../../proto/log.js';

export interface SbdModemOptions {
  /** Fewest signal bars worth a session (default 2; Iridium advises ≥ 2). */
  minSignalBars?: number;
  commandTimeoutMs?: number;
  /** An SBDIX session can take up to a minute on real hardware. */
  sessionTimeoutMs?: number;
  moMtu?: number;
  /** Close the stream with the modem (set by openSbdModem). */
  ownsPort?: boolean;
  logger?: Logger;
}

export interface SbdModemCounters {
  sessions: number;
  failedSessions: number;
  moMessages: number;
  mtMessages: number;
}

const MAX_BUFFER = 8192;

export class SbdModem implements MessageTransport {
  readonly moMtu: number;
  readonly counters: SbdModemCounters = { sessions: 0, failedSessions: 0, moMessages: 0, mtMessages: 0 };
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly handlers = new Set<(m: Uint8Array) => void>();
  private readonly log: Logger;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Nobody reads garbage forever: keep only the newest bytes.
    if (this.buffer.length > MAX_BUFFER) this.buffer = this.buffer.subarray(this.buffer.length - MAX_BUFFER);
    this.wake?.();
  };

  constructor(
    private readonly port: Duplex,
    private readonly options: SbdModemOptions = {},
  ) {
    this.moMtu = options.moMtu ?? SBD_MO_MTU;
    this.log = (options.logger ?? silentLogger).child({ component: 'sbd-modem' });
    port.on('data', this.onData);
  }

  /** Turns echo and flow control off (RockBLOCK has no RTS/CTS wired by default). */
  init(): Promise<void> {
    return this.exclusive(async () => {
      this.buffer = Buffer.alloc(0);
      await this.command('AT');
      await this.command('ATE0');
      await this.command('AT&K0');
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async waitFor<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = take();
      if (got !== undefined) return got;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new MaverickError(
          ErrorCode.LinkTimeout,
          `the modem did not answer ${what} within ${timeoutMs} ms`,
          { hint: 'check the serial cable, baud rate (19200) and power' },
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Next non-empty CR/LF-terminated line. */
  private takeLine(): string | undefined {
    for (;;) {
      const at = this.buffer.findIndex((b) => b === 0x0a || b === 0x0d);
      if (at < 0) return undefined;
      const line = this.buffer.subarray(0, at).toString('latin1').trim();
      this.buffer = this.buffer.subarray(at + 1);
      if (line.length > 0) return line;
    }
  }

  /** Sends a command, returns the lines before OK; ERROR or a timeout throws. Echoed commands are skipped. */
  private async command(cmd: string, timeoutMs = this.options.commandTimeoutMs ?? 5000): Promise<string[]> {
    this.port.write(`${cmd}\r`);
    return this.readUntilOk(cmd, timeoutMs);
  }

  private async readUntilOk(cmd: string, timeoutMs: number): Promise<string[]> {
    const lines: string[] = [];
    for (let i = 0; i < 16; i++) {
      const line = await this.waitFor(() => this.takeLine(), timeoutMs, cmd);
      if (line === cmd) continue;
      if (line === 'OK') return lines;
      if (line === 'ERROR')
        throw new MaverickError(ErrorCode.LinkModem, `the modem answered ERROR to ${cmd}`);
      lines.push(line);
    }
    throw new MaverickError(ErrorCode.LinkModem, `the modem sent too many lines for ${cmd}`);
  }

  /** Signal strength in bars (0..5). */
  signal(): Promise<number> {
    return this.exclusive(async () => {
      const lines = await this.command('AT+CSQ', this.options.sessionTimeoutMs ?? 60_000);
      const line = lines.find((l) => l.startsWith('+CSQ'));
      if (!line)
        throw new MaverickError(ErrorCode.LinkModem, 'the modem answered AT+CSQ without a +CSQ line');
      return parseCsq(line);
    });
  }

  async isUsable(): Promise<boolean> {
    return (await this.signal()) >= (this.options.minSignalBars ?? 2);
  }

  send(message: Uint8Array): Promise<void> {
    if (message.length < 1 || message.length > this.moMtu) {
      return Promise.reject(
        new MaverickError(
          ErrorCode.LinkModem,
          `an SBD MO message is 1..${this.moMtu} bytes, got ${message.length}`,
        ),
      );
    }
    return this.exclusive(async () => {
      await this.writeMo(message);
      const result = await this.session();
      if (!moSucceeded(result)) {
        throw new MaverickError(ErrorCode.LinkDown, `SBD session failed with MO status ${result.moStatus}`, {
          hint: 'retry when the signal is better',
        });
      }
      this.counters.moMessages++;
      await this.command('AT+SBDD0');
    });
  }

  poll(): Promise<void> {
    return this.exclusive(async () => {
      await this.command('AT+SBDD0');
      await this.session();
    });
  }

  private async writeMo(message: Uint8Array): Promise<void> {
    const cmd = `AT+SBDWB=${message.length}`;
    this.port.write(`${cmd}\r`);
    const first = await this.waitFor(
      () => {
        const line = this.takeLine();
        return line === cmd ? undefined : line;
      },
      this.options.commandTimeoutMs ?? 5000,
      cmd,
    );
    if (first !== 'READY') {
      throw new MaverickError(
        ErrorCode.LinkModem,
        `the modem refused ${cmd} with ${JSON.stringify(first.slice(0, 40))}`,
      );
    }
    this.port.write(encodeSbdwbPayload(message));
    const lines = await this.readUntilOk(cmd, this.options.commandTimeoutMs ?? 5000);
    const code = parseSbdwbResult(lines[lines.length - 1] ?? '');
    if (code !== 0) {
      const why = ['', 'write timeout', 'checksum mismatch', 'wrong size'][code];
      throw new MaverickError(ErrorCode.LinkModem, `the modem did not take the MO message: ${why} (${code})`);
    }
  }

  private async session(): Promise<SbdixResult> {
    this.counters.sessions++;
    const lines = await this.command('AT+SBDIX', this.options.sessionTimeoutMs ?? 60_000);
    const line = lines.find((l) => l.startsWith('+SBDIX'));
    if (!line)
      throw new MaverickError(ErrorCode.LinkModem, 'the modem answered AT+SBDIX without a +SBDIX line');
    const result = parseSbdix(line);
    if (!moSucceeded(result)) this.counters.failedSessions++;
    if (result.mtStatus === 1) await this.readMt();
    return result;
  }

  private async readMt(): Promise<void> {
    this.port.write('AT+SBDRB\r');
    const frame = await this.waitFor(
      () => {
        // Drop an echo of the command if the modem still echoes.
        // The length's high byte is 0 or 1 (MT ≤ 270 bytes), so leading CR/LF are line ends, not the frame.
        const echo = Buffer.from('AT+SBDRB\r');
        for (;;) {
          if (this.buffer.length > 0 && (this.buffer[0] === 0x0d || this.buffer[0] === 0x0a))
            this.buffer = this.buffer.subarray(1);
          else if (this.buffer.subarray(0, echo.length).equals(echo))
            this.buffer = this.buffer.subarray(echo.length);
          else break;
        }
        if (
          this.buffer.length > 0 &&
          this.buffer.length < echo.length &&
          echo.subarray(0, this.buffer.length).equals(this.buffer)
        )
          return undefined;
        const parsed = parseSbdrbFrame(this.buffer, SBD_MT_MTU * 8);
        if (parsed) this.buffer = this.buffer.subarray(parsed.consumed);
        return parsed;
      },
      this.options.commandTimeoutMs ?? 5000,
      'AT+SBDRB',
    );
    await this.readUntilOk('AT+SBDRB', this.options.commandTimeoutMs ?? 5000);
    if (frame.message.length === 0) return;
    this.counters.mtMessages++;
    for (const h of this.handlers) {
      try {
        h(frame.message);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'an MT handler threw');
      }
    }
  }

  onMessage(handler: (message: Uint8Array) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Stops listening; a port opened by `openSbdModem` is closed too. */
  close(): void {
    this.port.off('data', this.onData);
    this.wake?.();
    if (this.options.ownsPort) this.port.destroy();
  }
}

/** Opens a real modem on a serial port (9602/9603 default to 19200 8N1). */
export async function openSbdModem(
  path: string,
  options: SbdModemOptions & { baudRate?: number } = {},
): Promise<SbdModem> {
  const port = new SerialPort({ path, baudRate: options.baudRate ?? 19_200, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err
        ? reject(
            new MaverickError(ErrorCode.LinkModem, `cannot open the SBD modem on ${path}`, { cause: err }),
          )
        : resolve(),
    ),
  );
  port.on('error', () => {}); // surfaced as command timeouts; a pulled cable must not crash the gateway
  const modem = new SbdModem(port, { ...options, ownsPort: true });
  try {
    await modem.init();
  } catch (err) {
    modem.close();
    throw err;
  }
  return modem;
}
