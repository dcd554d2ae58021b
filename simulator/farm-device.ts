/**
 * One farm device in the field simulation: a SimulatedDevice (the LoRaWAN
 * stack), a sensor, the radio paths it is heard on, and its Class A life on
 * the simulated clock — join (retrying with backoff until a Join Accept lands
 * in RX1 or RX2), then an uplink every `intervalMs`, a confirmed one now and
 * then (retransmitted once when no ACK came), listening after each
 * transmission for the two receive windows (LoRaWAN 1.0.4 §3.3, §6.2.5).
 *
 * Simulated time runs far faster than the gateway's real latency, so a
 * decision that depends on an answer ("did the Join Accept come?") also
 * allows `answerGraceMs` of real time after the frame went on the wire before
 * concluding that nothing came. Whether an answer counts is decided by its
 * concentrator timestamp alone: exactly RX1 or RX2 after the uplink's.
 */

import { describeError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import type { SimClock } from './clock.js';
import type { UplinkRadio } from './device.js';
import { SimulatedDevice } from './device.js';
import { createPrng, type Prng } from './device-random.js';
import { type Listening, matchWindow, openListening, type WindowMatch } from './farm-listening.js';
import { createFarmSensor, type FarmSensor, PROFILE_FPORT } from './farm-sensors.js';
import type { FarmDeviceSpec } from './farm-spec.js';
import { hexToBytes } from './farm-spec.js';
import type { FarmStats, SentUplink } from './farm-stats.js';
import type { RadioPath } from './radio-link.js';

export interface FarmDeviceBehaviour {
  intervalMs: number;
  /** New uplinks to send (Infinity: until stopped). */
  uplinks: number;
  /** Share of uplinks sent confirmed, 0..1. */
  confirmedRatio: number;
  /** Simulated delay before the first join / uplink is drawn from [0, startSpreadMs). */
  startSpreadMs: number;
  /** First join retry delay (simulated ms); doubles per attempt up to 16×. */
  joinBackoffMs: number;
  maxJoinAttempts: number;
  /** Real ms to wait for an answer after the windows closed in simulated time. */
  answerGraceMs: number;
}

/** What every device of one farm shares. */
export interface FarmDeviceContext {
  clock: SimClock;
  behaviour: FarmDeviceBehaviour;
  stats: FarmStats;
  /** Every new uplink, in sending order. */
  sentLog: SentUplink[];
  region: string;
  logger: Logger;
}

/** Receive windows stay open this long after RX2 starts (simulated ms), for the frame's airtime. */
const WINDOW_TAIL_MS = 1_000;
const RECENT = 4;

export class FarmDevice {
  readonly sim: SimulatedDevice;
  readonly sensor: FarmSensor;
  /** The last frames this device transmitted (newest last), for replay tests. */
  readonly recentFrames: Uint8Array[] = [];
  private readonly prng: Prng;
  private readonly linkQuality = new Map<string, { rssi: number; snr: number }>();
  private current: Listening | undefined;
  private readonly recent: Listening[] = [];
  private joinAttempts = 0;
  private uplinksDone = 0;
  private retransmitted = false;
  private nextUplinkAt = 0;
  private timer: { cancel(): void } | undefined;
  private stopped = false;
  private finish!: () => void;
  /** Resolves when the device sent all its uplinks, gave up joining, or was stopped. */
  readonly finished: Promise<void> = new Promise((resolve) => {
    this.finish = resolve;
  });
  done = false;

  private readonly clock: SimClock;
  private readonly behaviour: FarmDeviceBehaviour;
  private readonly stats: FarmStats;

  constructor(
    readonly spec: FarmDeviceSpec,
    readonly paths: readonly RadioPath[],
    private readonly context: FarmDeviceContext,
    seed: number,
  ) {
    this.clock = context.clock;
    this.behaviour = context.behaviour;
    this.stats = context.stats;
    this.prng = createPrng(seed);
    this.sim = new SimulatedDevice({
      identity:
        spec.activation === 'otaa'
          ? {
              activation: 'otaa',
              devEui: spec.devEui,
              joinEui: spec.joinEui,
              appKey: hexToBytes(spec.appKey),
            }
          : {
              activation: 'abp',
              devEui: spec.devEui,
              devAddr: spec.devAddr,
              nwkSKey: hexToBytes(spec.nwkSKey),
              appSKey: hexToBytes(spec.appSKey),
            },
      region: context.region,
      seed: this.prng.int(0, 0xffffffff),
    });
    this.sensor = createFarmSensor(spec.profile, this.prng.int(0, 0xffffffff));
    for (const path of paths) {
      // Each device sits at its own distance from each antenna.
      this.linkQuality.set(path.name, { rssi: this.prng.int(-115, -60), snr: this.prng.int(-8, 10) });
    }
  }

  get devEui(): string {
    return this.spec.devEui;
  }

  start(): void {
    const delay = this.prng.next() * this.behaviour.startSpreadMs;
    if (this.spec.activation === 'otaa') this.schedule(delay, () => this.join());
    else {
      this.nextUplinkAt = this.clock.now() + delay;
      this.schedule(delay, () => this.sendUplink());
    }
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.current?.resolve();
    this.complete();
  }

  /** Which receive window of this device, on `path`, a downlink at `tmst` falls in. */
  match(pathName: string, tmst: number): WindowMatch {
    return matchWindow(this.current, this.recent, pathName, tmst);
  }

  /** Whether a Join Accept could be for this device now. */
  get awaitingJoinAccept(): boolean {
    return this.current?.kind === 'join' && !this.current.answered;
  }

  /** Hands a downlink that fell in one of our windows to the LoRaWAN stack; true when the stack took it. */
  deliver(phy: Uint8Array, match: Extract<WindowMatch, { kind: 'rx1' | 'rx2' }>, pathName: string): boolean {
    // The link is reciprocal: the device hears the gateway about as well as the gateway hears it.
    const snr = this.linkQuality.get(pathName)?.snr ?? 5;
    const wasJoined = this.sim.joined;
    const result = this.sim.handleDownlink(phy, { snr });
    if (result.kind === 'ignored') return false;
    const l = match.listening;
    l.answered = true;
    if (result.kind === 'join-accept') {
      this.stats.joinAccepts++;
      if (!wasJoined) this.stats.joinedDevices++;
    } else if (result.acked && l.sent) {
      this.stats.acksReceived++;
      l.sent.ackedIn = match.kind;
    }
    if (match.kind === 'rx1') this.stats.downlinksRx1++;
    else this.stats.downlinksRx2++;
    l.resolve();
    return true;
  }

  private schedule(delayMs: number, fn: () => Promise<void> | void): void {
    if (this.stopped) return;
    this.timer = this.clock.after(delayMs, fn);
  }

  private async join(): Promise<void> {
    if (this.stopped) return;
    this.joinAttempts++;
    if (this.joinAttempts > 1) this.stats.joinRetries++;
    this.stats.joinRequests++;
    const radio = this.sim.nextUplinkRadio();
    const listening = await this.transmit(this.sim.joinRequest(), radio, 'join');
    this.schedule(listening.windows.rx2.delayMs + WINDOW_TAIL_MS, () => this.afterJoinWindows(listening));
  }

  private async afterJoinWindows(listening: Listening): Promise<void> {
    await this.awaitAnswer(listening);
    if (this.stopped) return;
    if (this.sim.joined) {
      this.nextUplinkAt = this.clock.now() + this.prng.next() * 5_000;
      this.schedule(this.nextUplinkAt - this.clock.now(), () => this.sendUplink());
      return;
    }
    this.stats.joinTimeouts++;
    if (this.joinAttempts >= this.behaviour.maxJoinAttempts) {
      this.stats.devicesGaveUp++;
      this.complete();
      return;
    }
    // Exponential backoff with jitter (LoRaWAN 1.0.4 §7: join retries must be randomised and paced).
    const factor = 2 ** Math.min(this.joinAttempts - 1, 4);
    this.schedule(this.behaviour.joinBackoffMs * factor * (0.75 + 0.5 * this.prng.next()), () => this.join());
  }

  private async sendUplink(): Promise<void> {
    if (this.stopped) return;
    if (this.uplinksDone >= this.behaviour.uplinks) return this.complete();
    const atMs = this.clock.now();
    const { payload, values } = this.sensor.sample(atMs);
    const confirmed = this.prng.next() < this.behaviour.confirmedRatio;
    const fPort = PROFILE_FPORT[this.spec.profile];
    const fCnt = this.sim.fCntUp;
    const phy = this.sim.uplink({ fPort, payload, confirmed });
    const radio = this.sim.nextUplinkRadio();
    const sent: SentUplink = {
      devEui: this.devEui,
      fCnt,
      fPort,
      confirmed,
      payload,
      values,
      atMs,
      paths: this.paths.map((p) => p.name),
    };
    this.context.sentLog.push(sent);
    this.uplinksDone++;
    this.retransmitted = false;
    this.stats.uplinksSent++;
    if (confirmed) this.stats.confirmedSent++;
    const listening = await this.transmit(phy, radio, 'data', sent);
    this.schedule(listening.windows.rx2.delayMs + WINDOW_TAIL_MS, () => this.afterDataWindows(listening));
  }

  private async afterDataWindows(listening: Listening): Promise<void> {
    const sent = listening.sent;
    if (sent?.confirmed) await this.awaitAnswer(listening);
    if (this.stopped) return;
    if (sent?.confirmed && !sent.ackedIn) {
      if (!this.retransmitted) {
        // 1.0.x: the same frame again (same FCnt), then give up on this one.
        this.retransmitted = true;
        this.stats.retransmissions++;
        const radio = this.sim.nextUplinkRadio();
        const again = await this.transmit(this.sim.retransmitLast(), radio, 'data', sent);
        this.schedule(again.windows.rx2.delayMs + WINDOW_TAIL_MS, () => this.afterDataWindows(again));
        return;
      }
      this.stats.confirmedUnacked++;
    }
    if (this.uplinksDone >= this.behaviour.uplinks) return this.complete();
    // A little jitter keeps devices from marching in lockstep (and colliding) forever.
    this.nextUplinkAt += this.behaviour.intervalMs * (0.95 + 0.1 * this.prng.next());
    this.schedule(Math.max(0, this.nextUplinkAt - this.clock.now()), () => this.sendUplink());
  }

  private async transmit(
    phy: Uint8Array,
    radio: UplinkRadio,
    kind: 'join' | 'data',
    sent?: SentUplink,
  ): Promise<Listening> {
    const atMs = this.clock.now();
    const listening = openListening(kind, this.sim.receiveWindows(radio, kind === 'join'), sent);
    if (this.current) this.recent.push(this.current);
    if (this.recent.length > RECENT) this.recent.shift();
    this.current = listening;
    this.recentFrames.push(phy);
    if (this.recentFrames.length > 16) this.recentFrames.shift();
    this.stats.transmissions++;
    await Promise.all(
      this.paths.map(async (path) => {
        const tmst = path.tmstAt(atMs);
        listening.tmstByPath.set(path.name, tmst);
        const q = this.linkQuality.get(path.name) ?? { rssi: -90, snr: 5 };
        try {
          await path.send(phy, {
            tmst,
            frequencyHz: radio.frequencyHz,
            dataRate: radio.dataRate,
            atMs,
            ...q,
          });
          this.stats.pathUplinks[path.name] = (this.stats.pathUplinks[path.name] ?? 0) + 1;
        } catch (err) {
          this.stats.sendErrors++;
          this.context.logger.warn(
            { err: describeError(err), devEui: this.devEui, path: path.name },
            'farm: a frame could not be handed to the radio path',
          );
        }
      }),
    );
    listening.wiredAtRealMs = performance.now();
    return listening;
  }

  private async awaitAnswer(listening: Listening): Promise<void> {
    if (listening.answered || this.stopped) return;
    const left = this.behaviour.answerGraceMs - (performance.now() - listening.wiredAtRealMs);
    if (left <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      listening.answer,
      new Promise<void>((r) => {
        timer = setTimeout(r, left);
      }),
    ]);
    clearTimeout(timer);
  }

  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.finish();
  }
}
