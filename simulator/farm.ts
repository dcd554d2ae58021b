/**
 * FarmSimulation: the field in a box. Farm devices (soil probes, air sensors,
 * a weather station; OTAA and ABP) with real LoRaWAN stacks transmit on the
 * simulated clock through one or more radio paths (packet-forwarder and
 * serial-concentrator emulators) to a real gateway, and hear what the gateway
 * transmits back only when it lands exactly in their RX1 or RX2 window
 * (LoRaWAN 1.0.4 §3.3.1–3.3.2; JOIN_ACCEPT_DELAY1/2 for joins). It imports
 * proto/ and simulator/ only: the kernel's independent counterpart.
 *
 * Deterministic for a seed: device keys, nonces, readings, confirmed choices
 * and send times all come from seeded PRNGs and the simulated clock.
 */
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { decodePhy } from '../proto/lorawan/index.js';
import type { DataRate } from '../proto/radio.js';
import { getRegion, type Region } from '../proto/regions/index.js';
import type { SimClock } from './clock.js';
import { seedFromString } from './device-random.js';
import { FarmDevice, type FarmDeviceBehaviour, type FarmDeviceContext } from './farm-device.js';
import type { FarmDeviceSpec } from './farm-spec.js';
import { emptyFarmStats, type FarmStats, type SentUplink } from './farm-stats.js';
import type { PathDownlink, RadioPath } from './radio-link.js';

export type { FarmDeviceSpec, GenerateFarmOptions } from './farm-spec.js';
export { generateFarmDevices } from './farm-spec.js';
export type { FarmStats, SentUplink } from './farm-stats.js';

export interface FarmSimulationOptions extends Partial<FarmDeviceBehaviour> {
  clock: SimClock;
  paths: RadioPath[];
  devices: FarmDeviceSpec[];
  /** Seeds every device (with its DevEUI). */
  seed: number;
  /** A region id in any case (default EU868). */
  region?: string;
  /** Simulated ms between a device's uplinks (required). */
  intervalMs: number;
  logger?: Logger;
}

function sameDataRate(a: DataRate, b: DataRate | undefined): boolean {
  if (!b || a.modulation !== b.modulation) return false;
  if (a.modulation === 'LORA' && b.modulation === 'LORA')
    return a.spreadingFactor === b.spreadingFactor && a.bandwidthKHz === b.bandwidthKHz;
  return a.modulation === 'FSK' && b.modulation === 'FSK' && a.bitrate === b.bitrate;
}

export class FarmSimulation {
  readonly clock: SimClock;
  readonly region: Region;
  readonly devices: readonly FarmDevice[];
  /** Every new uplink sent, in order (retransmissions are not repeated here). */
  readonly sentUplinks: SentUplink[] = [];
  private readonly paths = new Map<string, RadioPath>();
  private readonly stats: FarmStats;
  private readonly logger: Logger;
  private readonly listeners: { path: RadioPath; fn: (dl: PathDownlink) => void }[] = [];
  private started = false;

  constructor(options: FarmSimulationOptions) {
    this.clock = options.clock;
    this.region = getRegion(options.region ?? 'EU868');
    this.logger = options.logger ?? silentLogger;
    for (const path of options.paths) this.paths.set(path.name, path);
    this.stats = emptyFarmStats(options.devices.length, [...this.paths.keys()]);
    const behaviour: FarmDeviceBehaviour = {
      intervalMs: options.intervalMs,
      uplinks: options.uplinks ?? Number.POSITIVE_INFINITY,
      confirmedRatio: options.confirmedRatio ?? 0.2,
      startSpreadMs: options.startSpreadMs ?? options.intervalMs,
      joinBackoffMs: options.joinBackoffMs ?? 20_000,
      maxJoinAttempts: options.maxJoinAttempts ?? 8,
      answerGraceMs: options.answerGraceMs ?? 2_000,
    };
    const context: FarmDeviceContext = {
      clock: this.clock,
      behaviour,
      stats: this.stats,
      sentLog: this.sentUplinks,
      region: this.region.id,
      logger: this.logger,
    };
    const seen = new Set<string>();
    this.devices = options.devices.map((spec) => {
      if (seen.has(spec.devEui)) throw configError(`devEui ${spec.devEui} appears twice`, 'devices');
      seen.add(spec.devEui);
      const paths = spec.paths.map((name) => {
        const path = this.paths.get(name);
        if (!path)
          throw configError(
            `device ${spec.devEui} names radio path "${name}", which is not one of: ${[...this.paths.keys()].join(', ')}`,
            'devices.paths',
          );
        return path;
      });
      if (paths.length === 0) throw configError(`device ${spec.devEui} has no radio path`, 'devices.paths');
      const seed = (options.seed ^ seedFromString(spec.devEui)) >>> 0;
      return new FarmDevice(spec, paths, context, seed);
    });
  }

  /** Starts listening for downlinks and every device's life on the clock (a free-running clock is started too). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const path of this.paths.values()) {
      const fn = (dl: PathDownlink) => this.onDownlink(path, dl);
      path.on('downlink', fn);
      this.listeners.push({ path, fn });
    }
    for (const device of this.devices) device.start();
    this.clock.start();
  }

  /** Stops every device and stops listening; the paths' emulators belong to the caller. */
  stop(): void {
    for (const device of this.devices) device.stop();
    for (const { path, fn } of this.listeners) path.off('downlink', fn);
    this.listeners.length = 0;
    this.clock.stop();
  }

  /** True once every device sent all its uplinks (or gave up joining). */
  get finished(): boolean {
    return this.devices.every((d) => d.done);
  }

  /** Resolves when `finished`. */
  async whenFinished(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.finished));
  }

  device(devEui: string): FarmDevice | undefined {
    return this.devices.find((d) => d.devEui === devEui.toLowerCase());
  }

  snapshot(): FarmStats {
    return {
      ...this.stats,
      pathUplinks: { ...this.stats.pathUplinks },
      pathDownlinks: { ...this.stats.pathDownlinks },
    };
  }

  /** Puts raw bytes on the air of one path (replays, corrupt frames), as heard at the current simulated time. */
  async inject(pathName: string, phy: Uint8Array, frequencyHz = 868_100_000): Promise<void> {
    const path = this.paths.get(pathName);
    if (!path) throw configError(`no radio path "${pathName}"`, 'pathName');
    const atMs = this.clock.now();
    const dataRate = this.region.dataRate(5)?.dataRate ?? {
      modulation: 'LORA',
      spreadingFactor: 7,
      bandwidthKHz: 125,
    };
    await path.send(phy, { tmst: path.tmstAt(atMs), frequencyHz, dataRate, rssi: -80, snr: 7, atMs });
  }

  /**
   * A downlink heard on a path. Untrusted bytes from the gateway: never throws.
   * It reaches a device only if its tmst is exactly RX1 or RX2 after that
   * device's uplink on this path, on that window's frequency and data rate.
   */
  private onDownlink(path: RadioPath, dl: PathDownlink): void {
    this.stats.downlinksHeard++;
    this.stats.pathDownlinks[path.name] = (this.stats.pathDownlinks[path.name] ?? 0) + 1;
    try {
      this.route(path, dl);
    } catch (err) {
      // Routing only reads; anything thrown here is our bug, counted rather than crashing the socket handler.
      this.stats.undecodableDownlinks++;
      this.logger.warn({ err: describeError(err), path: path.name }, 'farm: downlink routing failed');
    }
  }

  private route(path: RadioPath, dl: PathDownlink): void {
    let frame: ReturnType<typeof decodePhy>;
    try {
      frame = decodePhy(dl.phyPayload);
    } catch (err) {
      this.stats.undecodableDownlinks++;
      this.logger.warn({ err: describeError(err), path: path.name }, 'farm: undecodable downlink');
      return;
    }
    const onPath = this.devices.filter((d) => d.paths.includes(path));
    let candidates: FarmDevice[];
    if (frame.kind === 'join-accept') candidates = onPath.filter((d) => d.awaitingJoinAccept);
    else if (frame.kind === 'data' && !frame.uplink)
      candidates = onPath.filter((d) => d.sim.devAddr === frame.devAddr);
    else {
      this.stats.undecodableDownlinks++;
      return;
    }
    if (dl.tmst === undefined) {
      // Class A devices listen only in RX1/RX2: an immediate transmission is never in a window.
      this.stats.wrongTiming++;
      return;
    }
    let late = false;
    let timed = false;
    for (const device of candidates) {
      const m = device.match(path.name, dl.tmst);
      if (m.kind === 'late') late = true;
      if (m.kind !== 'rx1' && m.kind !== 'rx2') continue;
      timed = true;
      if (
        dl.frequencyHz !== m.frequencyHz ||
        !sameDataRate(dl.dataRate, this.region.dataRate(m.dr)?.dataRate)
      ) {
        this.stats.wrongChannel++;
        return;
      }
      if (device.deliver(dl.phyPayload, m, path.name)) return;
    }
    if (timed) this.stats.unmatchedDownlinks++;
    else if (late) this.stats.lateDownlinks++;
    else if (candidates.length === 0) this.stats.unmatchedDownlinks++;
    else this.stats.wrongTiming++;
  }
}

function configError(message: string, field: string): MaverickError {
  return new MaverickError(ErrorCode.ConfigInvalid, message, {
    context: { field },
    hint: 'check the farm description (devices, their paths, the path names)',
  });
}
