/** A RadioBackend for tests: records schedule() calls and answers with scripted TX acks. */
import { EventEmitter } from 'node:events';
import type {
  RadioBackend,
  RadioBackendEvents,
  RadioBackendKind,
  RadioBackendState,
  RadioCapabilities,
  RadioUplink,
  RxMetadata,
  TxAck,
  TxAckStatus,
  TxRequest,
} from '../../proto/radio.js';

export class FakeRadio extends EventEmitter implements RadioBackend {
  readonly kind: RadioBackendKind = 'semtech-udp';
  readonly capabilities: RadioCapabilities = { downlink: true, timedDownlink: true };
  state: RadioBackendState = 'up';
  readonly sent: TxRequest[] = [];
  /** The status answered for each entry of `sent`. */
  readonly statuses: TxAckStatus[] = [];
  /** Statuses to answer, in order; 'OK' once they run out. */
  readonly script: TxAckStatus[] = [];

  async start(): Promise<void> {
    this.state = 'up';
  }
  async stop(): Promise<void> {
    this.state = 'stopped';
  }
  async schedule(tx: TxRequest): Promise<TxAck> {
    this.sent.push(tx);
    const status = this.script.shift() ?? 'OK';
    this.statuses.push(status);
    return { gatewayEui: tx.gatewayEui, status, id: tx.id };
  }
  counters(): Readonly<Record<string, number>> {
    return { scheduled: this.sent.length };
  }
  receive(uplink: RadioUplink): void {
    this.emit('uplink', uplink);
  }
  override on<K extends keyof RadioBackendEvents>(
    event: K,
    listener: (...args: RadioBackendEvents[K]) => void,
  ): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof RadioBackendEvents>(
    event: K,
    listener: (...args: RadioBackendEvents[K]) => void,
  ): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}

/** Reception metadata of an EU868 SF7 uplink on 868.1 MHz, overridable. */
export function rxMeta(overrides: Partial<RxMetadata> = {}): RxMetadata {
  return {
    gatewayEui: 'aa555a0000000001',
    tmst: 1_000_000,
    frequencyHz: 868_100_000,
    channel: 0,
    rfChain: 0,
    dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
    codingRate: '4/5',
    rssi: -60,
    snr: 9,
    backend: 'semtech-udp',
    ...overrides,
  };
}
