/**
 * Emulated RAK3172 with RUI3 firmware in LoRa P2P mode, speaking AT commands over
 * any duplex byte stream (RUI3 AT Command Manual): AT, AT+NWM, AT+P2P,
 * AT+SYNCWORD, AT+IQINVER, AT+PRECV (65534 = listen continuously, 0 = stop),
 * AT+PSEND (answers OK, then `+EVT:TXP2P DONE`), and `+EVT:RXP2P:<rssi>:<snr>:<hex>`
 * for every packet "heard" while listening. Replies are `<value>\r\n` lines then a
 * status line (`OK`, `AT_PARAM_ERROR`, `AT_BUSY_ERROR`, `AT_COMMAND_NOT_FOUND`).
 *
 * Modelling choice: AT+PSEND while continuous receive is on answers AT_BUSY_ERROR
 * (RUI3 stays in RX "without moving to TX mode" at 65534), so a host must send
 * AT+PRECV=0 first, as on the module.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

export interface P2pSettings {
  frequencyHz: number;
  spreadingFactor: number;
  bandwidthKHz: number;
  /** RUI3 code: 0 = 4/5 ... 3 = 4/8. */
  codingRate: number;
  preamble: number;
  txPowerDbm: number;
}

export interface P2pDownlink {
  payload: Uint8Array;
  settings: P2pSettings;
  invertIq: boolean;
}

export interface Rak3172EmulatorEvents {
  downlink: [P2pDownlink];
  command: [string];
}

const MAX_COMMAND = 600;

export class Rak3172Emulator extends EventEmitter<Rak3172EmulatorEvents> {
  /** When false the module is hung: commands get no answer. */
  respond = true;
  /** 0 = P2P, 1 = LoRaWAN (RUI3 AT+NWM). */
  networkMode = 1;
  settings: P2pSettings = {
    frequencyHz: 868_000_000,
    spreadingFactor: 7,
    bandwidthKHz: 125,
    codingRate: 0,
    preamble: 8,
    txPowerDbm: 14,
  };
  syncWord = '3444';
  invertIq = false;
  /** Current AT+PRECV value (0 = not listening). */
  receiveMode = 0;
  private stream: Duplex | undefined;
  private pending = '';
  private failNextSendWith: string | undefined;
  private readonly onData = (chunk: Buffer) => this.receive(chunk.toString('latin1'));

  attach(stream: Duplex): void {
    this.detach();
    this.stream = stream;
    this.pending = '';
    stream.on('data', this.onData);
  }

  detach(): void {
    this.stream?.off('data', this.onData);
    this.stream = undefined;
  }

  /** The next AT+PSEND is answered with this status (e.g. AT_BUSY_ERROR) instead of transmitting. */
  failNextSend(status: string): void {
    this.failNextSendWith = status;
  }

  get listening(): boolean {
    return this.networkMode === 0 && this.receiveMode !== 0;
  }

  /** A packet on the air: reported only when listening, as RUI3 does. Returns whether it was reported. */
  sendUplink(payload: Uint8Array, meta: { rssi?: number; snr?: number } = {}): boolean {
    if (!this.listening) return false;
    const hex = Buffer.from(payload).toString('hex').toUpperCase();
    this.line(`+EVT:RXP2P:${meta.rssi ?? -60}:${meta.snr ?? 8}:${hex}`);
    if (this.receiveMode === 65535) this.receiveMode = 0; // 65535: one packet, then back to idle
    return true;
  }

  /** Raw bytes on the line (noise, a wrong baud rate). */
  writeRaw(text: string): void {
    this.stream?.write(Buffer.from(text, 'latin1'));
  }

  private line(text: string): void {
    const s = this.stream;
    if (s && !s.destroyed && s.writable) s.write(Buffer.from(`${text}\r\n`, 'latin1'));
  }

  private receive(text: string): void {
    this.pending += text;
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      const command = this.pending.slice(0, newline).replace(/\r$/, '').trim();
      this.pending = this.pending.slice(newline + 1);
      if (command !== '') this.execute(command);
      newline = this.pending.indexOf('\n');
    }
    if (this.pending.length > MAX_COMMAND) this.pending = '';
  }

  private execute(command: string): void {
    this.emit('command', command);
    if (!this.respond) return;
    for (const line of this.answer(command)) this.line(line);
  }

  /** The lines RUI3 answers `command` with (value lines, then the status line). */
  private answer(command: string): string[] {
    const [name, arg] = splitCommand(command);
    switch (name) {
      case 'AT':
        return ['OK'];
      case 'AT+NWM':
        if (arg === '?') return [`${this.networkMode}`, 'OK'];
        if (arg !== '0' && arg !== '1') return ['AT_PARAM_ERROR'];
        this.networkMode = Number(arg);
        return ['OK'];
      case 'AT+P2P':
        return this.setP2p(arg);
      case 'AT+SYNCWORD':
        if (!/^[0-9A-Fa-f]{4}$/.test(arg ?? '')) return ['AT_PARAM_ERROR'];
        this.syncWord = (arg as string).toUpperCase();
        return ['OK'];
      case 'AT+IQINVER':
        if (arg !== '0' && arg !== '1') return ['AT_PARAM_ERROR'];
        this.invertIq = arg === '1';
        return ['OK'];
      case 'AT+PRECV': {
        const v = Number(arg);
        if (this.networkMode !== 0) return ['AT_BUSY_ERROR'];
        if (!Number.isInteger(v) || v < 0 || v > 65535) return ['AT_PARAM_ERROR'];
        this.receiveMode = v;
        return ['OK'];
      }
      case 'AT+PSEND':
        return this.psend(arg);
      default:
        return ['AT_COMMAND_NOT_FOUND'];
    }
  }

  private setP2p(arg: string | undefined): string[] {
    const parts = (arg ?? '').split(':').map(Number);
    const [frequencyHz, spreadingFactor, bandwidthKHz, codingRate, preamble, txPowerDbm] = parts as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const valid =
      parts.length === 6 &&
      parts.every(Number.isInteger) &&
      frequencyHz >= 150_000_000 &&
      frequencyHz <= 960_000_000 &&
      spreadingFactor >= 5 &&
      spreadingFactor <= 12 &&
      [125, 250, 500].includes(bandwidthKHz) &&
      codingRate >= 0 &&
      codingRate <= 3 &&
      preamble >= 2 &&
      preamble <= 65535 &&
      txPowerDbm >= 5 &&
      txPowerDbm <= 22;
    if (!valid || this.networkMode !== 0) return [valid ? 'AT_BUSY_ERROR' : 'AT_PARAM_ERROR'];
    this.settings = { frequencyHz, spreadingFactor, bandwidthKHz, codingRate, preamble, txPowerDbm };
    return ['OK'];
  }

  private psend(arg: string | undefined): string[] {
    const hex = arg ?? '';
    if (!/^([0-9A-Fa-f]{2}){1,255}$/.test(hex)) return ['AT_PARAM_ERROR'];
    const forced = this.failNextSendWith;
    this.failNextSendWith = undefined;
    if (forced) return [forced];
    if (this.networkMode !== 0 || this.receiveMode === 65534) return ['AT_BUSY_ERROR'];
    const downlink: P2pDownlink = {
      payload: Uint8Array.from(Buffer.from(hex, 'hex')),
      settings: { ...this.settings },
      invertIq: this.invertIq,
    };
    // "Air time" passes, then the module reports completion, as RUI3 does asynchronously.
    setTimeout(() => {
      this.emit('downlink', downlink);
      this.line('+EVT:TXP2P DONE');
    }, 5);
    return ['OK'];
  }
}

function splitCommand(command: string): [string, string | undefined] {
  const eq = command.indexOf('=');
  return eq < 0
    ? [command.toUpperCase(), undefined]
    : [command.slice(0, eq).toUpperCase(), command.slice(eq + 1)];
}
