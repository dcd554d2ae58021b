/**
 * Sends one Class A downlink: tries its receive windows in order (RX1, then
 * RX2 when the concentrator refuses RX1), skipping a window whose sub-band has
 * no duty cycle left, and books the airtime of what was sent.
 */
import type { Logger } from '../../proto/log.js';
import type { RadioBackend, TxAck, TxAckStatus, TxRequest } from '../../proto/radio.js';
import { type Region, timeOnAirMs } from '../../proto/regions/index.js';
import { CoalescingWrite } from './coalescing-write.js';
import type { DownlinkStateStore } from './downlink-queue.js';
import { DutyCycleTracker } from './duty-cycle.js';
import { ThrottledWarning } from './throttled-warning.js';

export type ReceiveWindow = 'rx1' | 'rx2';

export interface WindowPlan {
  window: ReceiveWindow;
  /** Concentrator time to transmit at (u32 µs). */
  tmst: number;
  frequencyHz: number;
  dr: number;
  phyPayload: Uint8Array;
}

export interface WindowAttempt {
  window: ReceiveWindow;
  status: TxAckStatus | 'DUTY_CYCLE';
  frequencyHz: number;
  dr: number;
  gatewayEui: string;
}

export interface TransmitResult {
  /** The window that was acknowledged OK, if any. */
  sent?: WindowPlan;
  attempts: WindowAttempt[];
}

export interface TransmitterOptions {
  logger: Logger;
  /** Clock for the duty-cycle window (tests move it). */
  now?: () => number;
  /** Keeps each gateway's duty-cycle use across restarts. */
  state?: Pick<DownlinkStateStore, 'loadDutyCycle' | 'saveDutyCycle'>;
}

function attemptOf(plan: WindowPlan, gatewayEui: string): Omit<WindowAttempt, 'status'> {
  return { window: plan.window, frequencyHz: plan.frequencyHz, dr: plan.dr, gatewayEui };
}

export class Transmitter {
  private readonly dutyCycles = new Map<string, DutyCycleTracker>();
  /** Each gateway's duty-cycle history is written as one coalesced write, never one per downlink. */
  private readonly dutyCycleWrites = new Map<string, CoalescingWrite>();
  private nextId = 1;

  /** Once a minute at most: with many devices every downlink of a burst may meet a spent sub-band. */
  private readonly dutyCycleSkipped: ThrottledWarning;

  constructor(private readonly options: TransmitterOptions) {
    this.dutyCycleSkipped = new ThrottledWarning(
      options.logger,
      'downlink would exceed the sub-band duty cycle; window skipped',
      60_000,
      options.now,
    );
  }

  async transmit(
    backend: RadioBackend,
    gatewayEui: string,
    region: Region,
    plans: WindowPlan[],
  ): Promise<TransmitResult> {
    const attempts: WindowAttempt[] = [];
    const duty = await this.dutyCycleFor(gatewayEui, region);
    for (const plan of plans) {
      const dataRate = region.dataRate(plan.dr)?.dataRate;
      if (!dataRate) {
        this.options.logger.warn(
          { dr: plan.dr, region: region.id },
          'downlink data rate not in region table; window skipped',
        );
        attempts.push({ ...attemptOf(plan, gatewayEui), status: 'TX_FREQ' });
        continue;
      }
      // Downlinks carry no payload CRC (LoRaWAN 1.0.4 §3.2).
      const airMs = timeOnAirMs(dataRate, plan.phyPayload.length, { crc: false });
      if (duty && !duty.allows(plan.frequencyHz, airMs)) {
        this.dutyCycleSkipped.warn({ gatewayEui, window: plan.window, frequencyHz: plan.frequencyHz, airMs });
        attempts.push({ ...attemptOf(plan, gatewayEui), status: 'DUTY_CYCLE' });
        continue;
      }
      const tx: TxRequest = {
        gatewayEui,
        tmst: plan.tmst,
        frequencyHz: plan.frequencyHz,
        powerDbm: region.downlinkTxPowerDbm,
        dataRate,
        codingRate: '4/5',
        invertPolarity: true,
        phyPayload: plan.phyPayload,
        id: this.takeId(),
      };
      let ack: TxAck;
      try {
        ack = await backend.schedule(tx);
      } catch (err) {
        // The contract says schedule() never rejects for radio errors; treat a broken backend as a timeout.
        this.options.logger.error({ gatewayEui, err: String(err) }, 'radio backend threw on schedule()');
        ack = { gatewayEui, status: 'TIMEOUT', id: tx.id };
      }
      attempts.push({ ...attemptOf(plan, gatewayEui), status: ack.status });
      if (ack.status === 'OK') {
        if (duty) {
          duty.record(plan.frequencyHz, airMs);
          await this.saveDutyCycle(gatewayEui, duty);
        }
        return { sent: plan, attempts };
      }
    }
    return { attempts };
  }

  /**
   * The duty-cycle tracker of one gateway: the limit is on what each transmitter sends, so two
   * gateways of one region each have their own airtime (and their own restored history).
   */
  private async dutyCycleFor(gatewayEui: string, region: Region): Promise<DutyCycleTracker | undefined> {
    if (!region.dutyCycle) return undefined;
    let tracker = this.dutyCycles.get(gatewayEui);
    if (!tracker) {
      tracker = new DutyCycleTracker(region.dutyCycle.subBands, this.options.now);
      this.dutyCycles.set(gatewayEui, tracker);
      try {
        const saved = await this.options.state?.loadDutyCycle(gatewayEui);
        if (saved) tracker.restore(saved);
      } catch (err) {
        // Unknown history: the limit is still kept for what this run sends.
        this.options.logger.warn({ gatewayEui, err: String(err) }, 'duty-cycle history could not be read');
      }
    }
    return tracker;
  }

  /** Resolves once the history, with what was just recorded, is stored (or failed and was logged). */
  private saveDutyCycle(gatewayEui: string, tracker: DutyCycleTracker): Promise<void> {
    const state = this.options.state;
    if (!state) return Promise.resolve();
    let write = this.dutyCycleWrites.get(gatewayEui);
    if (!write) {
      write = new CoalescingWrite(async () => {
        try {
          await state.saveDutyCycle(gatewayEui, tracker.entries());
        } catch (err) {
          this.options.logger.warn({ gatewayEui, err: String(err) }, 'duty-cycle use could not be stored');
        }
      });
      this.dutyCycleWrites.set(gatewayEui, write);
    }
    return write.request();
  }

  private takeId(): number {
    // Semtech UDP carries a u16 token.
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    return id;
  }
}
