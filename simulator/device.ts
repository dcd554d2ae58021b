/**
 * SimulatedDevice: a real LoRaWAN 1.0.x Class A end-device stack for the
 * simulator — OTAA or ABP, frame counters, MIC checks, encryption, ACKs and
 * the device side of the MAC commands. It imports proto/ only (docs/ARCHITECTURE.md: the
 * simulator is the kernel's independent counterpart).
 */
import { ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import {
  type DataFrame,
  decodeJoinAccept,
  decodePhy,
  decryptFrmPayload,
  deriveSessionKeys,
  encodeDataFrame,
  encodeJoinRequest,
  type MacCommand,
  parseMacCommands,
  reconstructFCnt,
  verifyDataMic,
} from '../proto/lorawan/index.js';
import { getRegion, narrowLoraUplinkDrs, type Region } from '../proto/regions/index.js';
import { applyCfList, type ChannelTable } from './device-channels.js';
import { type DeviceRadioState, processDownlinkMac } from './device-mac.js';
import { MacAnswerQueue } from './device-mac-queue.js';
import { createPrng, type Prng, seedFromString } from './device-random.js';
import type {
  DeviceDownlinkResult,
  DeviceIdentity,
  DeviceSession,
  DownlinkRx,
  ReceiveWindows,
  SimulatedDeviceOptions,
  UplinkRadio,
  UplinkRequest,
} from './device-types.js';

export type * from './device-types.js';

function stateError(message: string, hint?: string): MaverickError {
  return new MaverickError(ErrorCode.LorawanDeviceState, message, { hint });
}

export class SimulatedDevice {
  readonly region: Region;
  readonly identity: DeviceIdentity;
  private readonly prng: Prng;
  private readonly adr: boolean;
  private readonly radio: DeviceRadioState;
  private session: DeviceSession | undefined;
  private fCntUpNext = 0;
  private lastFCntDown: number | undefined;
  private readonly usedDevNonces = new Set<number>();
  private pendingJoinNonce: number | undefined;
  /** Set when a confirmed downlink arrived: the next uplink carries ACK. */
  private ackPending = false;
  private lastConfirmed: { phy: Uint8Array; acked: boolean } | undefined;
  private readonly macQueue = new MacAnswerQueue();
  private readonly factoryChannels: boolean;

  constructor(options: SimulatedDeviceOptions) {
    this.region = getRegion(options.region);
    this.identity = options.identity;
    const label = options.identity.activation === 'otaa' ? options.identity.devEui : options.identity.devAddr;
    this.prng = createPrng(options.seed ?? seedFromString(label));
    this.adr = options.adr ?? true;
    this.factoryChannels = options.factoryChannels === true && this.region.channelPlan === 'fixed';
    const channels = this.initialChannels(options.identity.activation);
    this.radio = {
      channels,
      enabled: this.initialEnabled(channels),
      dataRate: options.dataRate ?? Math.max(...narrowLoraUplinkDrs(this.region)),
      txPowerIndex: 0,
      nbTrans: 1,
      rx1DrOffset: 0,
      rx2: { ...this.region.rx2 },
      rxDelaySeconds: this.region.receiveDelay1Ms / 1000,
      maxDutyCycle: 0,
      battery: options.battery ?? 254,
      lastSnr: 10,
    };
    if (this.region.dataRate(this.radio.dataRate)?.uplink !== true) {
      throw new MaverickError(
        ErrorCode.LorawanRegion,
        `DR${this.radio.dataRate} is not an uplink DR in ${this.region.id}`,
      );
    }
    if (options.identity.activation === 'abp') {
      const { devAddr, nwkSKey, appSKey } = options.identity;
      this.session = { devAddr, nwkSKey, appSKey };
      this.fCntUpNext = options.fCntUp ?? 0;
    }
    if (!Number.isInteger(this.fCntUpNext) || this.fCntUpNext < 0 || this.fCntUpNext > 0xffffffff) {
      throw new MaverickError(
        ErrorCode.LorawanCodec,
        `fCntUp must be a 32-bit counter, got ${options.fCntUp}`,
      );
    }
  }

  /**
   * OTAA devices know the plan's default channels (all 72 in a fixed plan); ABP
   * devices of a dynamic plan are provisioned with the network's whole plan.
   */
  private initialChannels(activation: 'otaa' | 'abp'): ChannelTable {
    const dynamicAbp = activation === 'abp' && this.region.channelPlan === 'dynamic';
    const plan = dynamicAbp ? this.region.uplinkChannels : this.region.defaultChannels;
    return new Map(plan.map((c, i) => [i, { ...c }]));
  }

  private initialEnabled(channels: ChannelTable): Set<number> {
    if (this.region.channelPlan === 'dynamic' || this.factoryChannels) return new Set(channels.keys());
    // Fixed plans: the region's sub-band (a device configured for the gateway's sub-band).
    const wanted = new Set(this.region.uplinkChannels.map((c) => c.frequencyHz));
    return new Set([...channels].filter(([, c]) => wanted.has(c.frequencyHz)).map(([n]) => n));
  }

  get joined(): boolean {
    return this.session !== undefined;
  }
  get devAddr(): string | undefined {
    return this.session?.devAddr;
  }
  get sessionKeys(): DeviceSession | undefined {
    return this.session ? { ...this.session } : undefined;
  }
  /** The FCnt the next new uplink will carry. */
  get fCntUp(): number {
    return this.fCntUpNext;
  }
  /** The last accepted downlink counter, undefined before the first downlink of a session. */
  get fCntDown(): number | undefined {
    return this.lastFCntDown;
  }
  get dataRate(): number {
    return this.radio.dataRate;
  }
  get txPowerDbm(): number {
    return this.region.txPowerDbm(this.radio.txPowerIndex) ?? this.region.maxEirpDbm;
  }
  get nbTrans(): number {
    return this.radio.nbTrans;
  }
  get rxSettings(): {
    rx1DrOffset: number;
    rx2: { frequencyHz: number; dr: number };
    rxDelaySeconds: number;
  } {
    return {
      rx1DrOffset: this.radio.rx1DrOffset,
      rx2: { ...this.radio.rx2 },
      rxDelaySeconds: this.radio.rxDelaySeconds,
    };
  }
  get maxDutyCycle(): number {
    return this.radio.maxDutyCycle;
  }
  /** Enabled uplink channel numbers with their frequencies. */
  get enabledChannels(): { channel: number; frequencyHz: number; minDr: number; maxDr: number }[] {
    return [...this.radio.enabled]
      .sort((a, b) => a - b)
      .flatMap((ch) => {
        const c = this.radio.channels.get(ch);
        return c ? [{ channel: ch, frequencyHz: c.frequencyHz, minDr: c.minDr, maxDr: c.maxDr }] : [];
      });
  }
  /** What the network's last TxParamSetupReq set, if one came. */
  get txParams(): DeviceRadioState['txParams'] {
    return this.radio.txParams ? { ...this.radio.txParams } : undefined;
  }
  get lastLinkCheck(): { margin: number; gwCnt: number } | undefined {
    return this.radio.linkCheck;
  }
  get lastDeviceTime(): { gpsSeconds: number; fraction256: number } | undefined {
    return this.radio.deviceTime;
  }
  /** MAC commands waiting for the next uplink. */
  get pendingMacCommands(): MacCommand[] {
    return this.macQueue.pending;
  }

  /** Builds a join-request with a fresh random DevNonce (1.0.x), never reusing one within this device. */
  joinRequest(): Uint8Array {
    if (this.identity.activation !== 'otaa')
      throw stateError('an ABP device does not join', 'use uplink() directly');
    if (this.usedDevNonces.size >= 0x10000) {
      throw new MaverickError(ErrorCode.LorawanDevNonceReused, 'all 65536 DevNonces are used', {
        hint: 'give the device a new DevEUI or AppKey',
      });
    }
    let devNonce = this.prng.int(0, 0xffff);
    while (this.usedDevNonces.has(devNonce)) devNonce = (devNonce + 1) & 0xffff;
    this.usedDevNonces.add(devNonce);
    this.pendingJoinNonce = devNonce;
    const { joinEui, devEui, appKey } = this.identity;
    return encodeJoinRequest({ joinEui, devEui, devNonce }, appKey);
  }

  /** Asks the network for a link check / the time in the next uplink (LinkCheckReq, DeviceTimeReq). */
  request(cid: 'LinkCheckReq' | 'DeviceTimeReq'): void {
    this.macQueue.request(cid);
  }

  /** Handles a received PHYPayload. Untrusted bytes: never throws, drops what a device would drop. */
  handleDownlink(phy: Uint8Array, rx: DownlinkRx = {}): DeviceDownlinkResult {
    let frame: ReturnType<typeof decodePhy>;
    try {
      frame = decodePhy(phy);
    } catch (err) {
      return { kind: 'ignored', reason: isMaverickError(err) ? err.message : 'undecodable frame' };
    }
    if (frame.kind === 'join-accept') return this.handleJoinAccept(frame.phy);
    if (frame.kind !== 'data' || frame.uplink)
      return { kind: 'ignored', reason: `not a downlink (${frame.kind})` };
    return this.handleData(frame, rx);
  }

  private handleJoinAccept(phy: Uint8Array): DeviceDownlinkResult {
    if (this.identity.activation !== 'otaa' || this.pendingJoinNonce === undefined) {
      return { kind: 'ignored', reason: 'no join-request outstanding' };
    }
    let fields: ReturnType<typeof decodeJoinAccept>;
    try {
      fields = decodeJoinAccept(phy, this.identity.appKey);
    } catch (err) {
      return { kind: 'ignored', reason: isMaverickError(err) ? err.message : 'bad join-accept' };
    }
    const keys = deriveSessionKeys(
      this.identity.appKey,
      fields.appNonce,
      fields.netId,
      this.pendingJoinNonce,
    );
    this.pendingJoinNonce = undefined;
    this.session = { devAddr: fields.devAddr, ...keys };
    this.fCntUpNext = 0;
    this.lastFCntDown = undefined;
    this.ackPending = false;
    this.lastConfirmed = undefined;
    this.macQueue.clear();
    this.radio.rx1DrOffset = fields.rx1DrOffset;
    this.radio.rx2 = { frequencyHz: this.radio.rx2.frequencyHz, dr: fields.rx2DataRate };
    this.radio.rxDelaySeconds = fields.rxDelay === 0 ? 1 : fields.rxDelay;
    const cfListApplied =
      fields.cfList && !this.factoryChannels
        ? applyCfList(this.region, this.radio.channels, this.radio.enabled, fields.cfList)
        : false;
    return {
      kind: 'join-accept',
      devAddr: fields.devAddr,
      rxDelaySeconds: this.radio.rxDelaySeconds,
      cfListApplied,
    };
  }

  private handleData(frame: DataFrame, rx: DownlinkRx): DeviceDownlinkResult {
    const session = this.session;
    if (!session) return { kind: 'ignored', reason: 'no session' };
    if (frame.devAddr !== session.devAddr)
      return { kind: 'ignored', reason: `DevAddr ${frame.devAddr} is not ours` };
    const fCnt32 = reconstructFCnt(this.lastFCntDown, frame.fCnt16);
    if (this.lastFCntDown !== undefined && fCnt32 <= this.lastFCntDown) {
      return { kind: 'ignored', reason: `FCntDown ${fCnt32} is not above ${this.lastFCntDown} (replay)` };
    }
    if (!verifyDataMic(frame, session.nwkSKey, fCnt32))
      return { kind: 'ignored', reason: 'MIC does not verify' };
    this.lastFCntDown = fCnt32;
    if (rx.snr !== undefined) this.radio.lastSnr = rx.snr;
    // A Class A downlink ends the repetition of sticky answers (1.0.3 §5.4, §5.7).
    this.macQueue.downlinkReceived();

    const acked = frame.fCtrl.ack && this.lastConfirmed !== undefined && !this.lastConfirmed.acked;
    if (acked && this.lastConfirmed) this.lastConfirmed.acked = true;
    if (frame.confirmed) this.ackPending = true;

    let macBytes = frame.fOpts;
    let payload: Uint8Array | undefined;
    if (frame.fPort === 0) macBytes = decryptFrmPayload(frame, session.nwkSKey, fCnt32);
    else if (frame.fPort !== undefined) payload = decryptFrmPayload(frame, session.appSKey, fCnt32);
    const parsed = parseMacCommands(macBytes, 'down');
    const outcome = processDownlinkMac(this.region, this.radio, parsed.commands);
    this.macQueue.add(outcome);
    const result: DeviceDownlinkResult = {
      kind: 'data',
      fCnt32,
      confirmed: frame.confirmed,
      acked,
      fPending: frame.fCtrl.fPending,
      macCommands: parsed.commands,
      answers: [...outcome.sticky, ...outcome.answers],
    };
    if (frame.fPort !== undefined) result.fPort = frame.fPort;
    if (payload) result.payload = payload;
    if (parsed.error) result.macError = parsed.error;
    return result;
  }

  /** Builds the next uplink: FCntUp advances, pending MAC answers ride in FOpts, ACK is set when owed. */
  uplink(request: UplinkRequest): Uint8Array {
    const session = this.session;
    if (!session)
      throw stateError('the device has not joined', 'call joinRequest() and deliver the join-accept first');
    if (!Number.isInteger(request.fPort) || request.fPort < 1 || request.fPort > 223) {
      throw new MaverickError(
        ErrorCode.LorawanCodec,
        `application fPort must be 1..223, got ${request.fPort}`,
      );
    }
    if (this.fCntUpNext > 0xffffffff)
      throw stateError('FCntUp is exhausted', 'rejoin to start a new session');
    const fOpts = this.macQueue.takeFOpts();
    const limit = this.region.dataRate(this.radio.dataRate)?.maxPayload ?? 0;
    if (request.payload.length + fOpts.length > limit) {
      throw new MaverickError(
        ErrorCode.LorawanCodec,
        `payload of ${request.payload.length} bytes (+${fOpts.length} FOpts) exceeds ${limit} at DR${this.radio.dataRate}`,
        { hint: 'send less or use a faster data rate' },
      );
    }
    const confirmed = request.confirmed ?? false;
    const phy = encodeDataFrame(
      {
        mType: confirmed ? 'ConfirmedDataUp' : 'UnconfirmedDataUp',
        devAddr: session.devAddr,
        fCnt32: this.fCntUpNext,
        fCtrl: { adr: this.adr, ack: this.ackPending },
        fOpts,
        fPort: request.fPort,
        payload: request.payload,
      },
      session,
    );
    this.fCntUpNext++;
    this.ackPending = false;
    this.lastConfirmed = confirmed ? { phy, acked: false } : undefined;
    return phy;
  }

  /** The last confirmed uplink again, same FCnt and bytes (1.0.x retransmission), while it is unacknowledged. */
  retransmitLast(): Uint8Array {
    if (!this.lastConfirmed || this.lastConfirmed.acked) {
      throw stateError('no unacknowledged confirmed uplink to retransmit');
    }
    return new Uint8Array(this.lastConfirmed.phy);
  }

  /** Picks an enabled channel that supports the current DR, pseudo-randomly (seeded). */
  nextUplinkRadio(): UplinkRadio {
    const dr = this.radio.dataRate;
    const usable = this.enabledChannels.filter((c) => dr >= c.minDr && dr <= c.maxDr);
    if (usable.length === 0) throw stateError(`no enabled channel supports DR${dr}`);
    const pick = usable[this.prng.int(0, usable.length - 1)];
    const dataRate = this.region.dataRate(dr)?.dataRate;
    if (!dataRate) throw stateError(`DR${dr} is not defined in ${this.region.id}`);
    return {
      channel: pick.channel,
      frequencyHz: pick.frequencyHz,
      dr,
      dataRate,
      txPowerDbm: this.txPowerDbm,
    };
  }

  /** When and where the device listens after an uplink (joins use JOIN_ACCEPT_DELAY1/2). */
  receiveWindows(
    uplink: { frequencyHz: number; dr: number; channel?: number },
    join = false,
  ): ReceiveWindows {
    const rx1Delay = join ? this.region.joinAcceptDelay1Ms : this.radio.rxDelaySeconds * 1000;
    const dlOverride =
      uplink.channel !== undefined ? this.radio.channels.get(uplink.channel)?.downlinkFrequencyHz : undefined;
    return {
      rx1: {
        delayMs: rx1Delay,
        frequencyHz: dlOverride ?? this.region.rx1Frequency(uplink.frequencyHz),
        dr: this.region.rx1DataRate(uplink.dr, join ? 0 : this.radio.rx1DrOffset),
      },
      rx2: {
        delayMs: join ? this.region.joinAcceptDelay2Ms : rx1Delay + 1000,
        frequencyHz: this.radio.rx2.frequencyHz,
        dr: join ? this.region.rx2.dr : this.radio.rx2.dr,
      },
    };
  }
}
