/**
 * What the network server says about downlinks: `txack` per attempt, a `log`
 * event for a window skipped by the duty cycle, for no route, and for a
 * queued payload that expired unsent; counters for each outcome.
 */
import type { Logger } from '../../proto/log.js';
import type { QueuedDownlink } from './downlink-queue.js';
import type { NetworkRepository } from './repository.js';
import { ThrottledWarning } from './throttled-warning.js';
import type { TransmitResult } from './transmitter.js';
import { deviceInfo } from './uplink.js';
import type { DeviceInfo, LogEvent, TxAckEvent } from './uplink-types.js';

export interface DownlinkReporterDeps {
  logger: Logger;
  count: (name: string) => void;
  emitLog: (event: LogEvent) => void;
  emitTxAck: (event: TxAckEvent) => void;
  now?: () => number;
}

export class DownlinkReporter {
  /** Once a minute at most (the application hears of each one in its tx-ack events). */
  private readonly notSent: ThrottledWarning;

  constructor(private readonly deps: DownlinkReporterDeps) {
    this.notSent = new ThrottledWarning(deps.logger, 'downlink not sent in RX1 nor RX2', 60_000, deps.now);
  }

  transmitted(info: DeviceInfo, result: TransmitResult, downlinkId?: string, fCntDown?: number): void {
    const { count, emitLog, emitTxAck } = this.deps;
    for (const attempt of result.attempts) {
      if (attempt.status === 'DUTY_CYCLE') {
        count('downlinks_duty_cycle');
        emitLog({
          device: info,
          level: 'warn',
          code: 'DUTY_CYCLE',
          description: `${attempt.window} skipped: the sub-band's duty cycle is used up`,
          context: { frequencyHz: attempt.frequencyHz },
        });
        continue;
      }
      emitTxAck({ device: info, downlinkId, fCntDown, ...attempt });
    }
    count(result.sent ? 'downlinks_sent' : 'downlinks_failed');
    if (!result.sent) {
      this.notSent.warn({ devEui: info.devEui, attempts: result.attempts });
    }
  }

  /** ChirpStack's `log` event (code EXPIRED) for a downlink whose `expiresAt` passed unsent. */
  expired(item: QueuedDownlink, repository: Pick<NetworkRepository, 'getDevice'>): void {
    this.deps.count('downlinks_expired');
    void repository.getDevice(item.devEui).then((device) => {
      if (!device) return;
      this.deps.emitLog({
        device: deviceInfo(device),
        level: 'warn',
        code: 'EXPIRED',
        description: `downlink ${item.id} expired at ${item.expiresAt} before the device sent an uplink`,
        context: { queueItemId: item.id, expiresAt: item.expiresAt },
      });
    });
  }

  noRoute(info: DeviceInfo): void {
    this.deps.count('downlinks_no_route');
    this.deps.logger.warn({ devEui: info.devEui }, 'no receiving gateway can transmit a timed downlink');
    this.deps.emitLog({
      device: info,
      level: 'warn',
      code: 'NO_ROUTE',
      description: 'no gateway can answer this device',
    });
  }
}
