/**
 * Over-the-air activation, the network's half (LoRaWAN 1.0.4 §6.2): checks
 * the Join Request MIC with the AppKey, refuses a DevNonce the device used
 * before (durably, so a replayed join cannot hijack the session after a
 * restart), stores the next JoinNonce before the accept can leave, picks a
 * free DevAddr in the NetID block, derives the session keys and encodes the
 * encrypted Join Accept with the configured receive-window settings and the
 * region's CFList.
 */
import { describeError } from '../../proto/errors.js';
import {
  deriveSessionKeys,
  encodeJoinAccept,
  type JoinRequestFrame,
  verifyJoinRequest,
} from '../../proto/lorawan/index.js';
import { getRegion } from '../../proto/regions/index.js';
import { allocateDevAddr } from './devaddr.js';
import type { Rejection } from './rejection.js';
import type { NetworkRepository } from './repository.js';
import { defaultDeviceSession, nextGeneration, type SessionParameters } from './session.js';
import { bytesToHex, type Device, type DeviceSession, hexToBytes } from './types.js';

export interface JoinServerOptions {
  repository: NetworkRepository;
  /** 6 hex characters; 000000 (the private / experimental NetID) by default. */
  netId: string;
  /** The receive-window parameters to announce in the Join Accept, per region. */
  parametersFor: (device: Device) => SessionParameters;
  now?: () => Date;
}

export type JoinOutcome =
  | { ok: true; device: Device; session: DeviceSession; joinAccept: Uint8Array; joinNonce: number }
  | { ok: false; rejection: Rejection };

export class JoinServer {
  constructor(private readonly options: JoinServerOptions) {}

  async handle(frame: JoinRequestFrame): Promise<JoinOutcome> {
    const { repository } = this.options;
    const reject = (
      reason: Rejection['reason'],
      message: string,
      details?: Record<string, unknown>,
    ): JoinOutcome => ({
      ok: false,
      rejection: { reason, message, devEui: frame.devEui, details: { joinEui: frame.joinEui, ...details } },
    });

    const device = await repository.getDevice(frame.devEui);
    if (device?.activation.mode !== 'otaa') {
      return reject('unknown_device', `join request from unregistered OTAA device ${frame.devEui}`);
    }
    const { activation } = device;
    if (activation.joinEui !== frame.joinEui) {
      return reject(
        'unknown_device',
        `join request from ${frame.devEui} names JoinEUI ${frame.joinEui}, registered ${activation.joinEui}`,
      );
    }
    const appKey = hexToBytes(activation.appKey);
    if (!verifyJoinRequest(frame, appKey)) {
      return reject('bad_mic', `join request from ${frame.devEui} has a MIC that does not match its AppKey`);
    }
    if (await repository.hasDevNonce(device.devEui, frame.devNonce)) {
      return reject(
        'devnonce_reused',
        `join request from ${frame.devEui} reuses DevNonce ${frame.devNonce}`,
        {
          devNonce: frame.devNonce,
        },
      );
    }

    try {
      // Both nonces hit the disk before anything is sent (§6.2.4, §6.2.5): a replay after a crash stays refused.
      await repository.addDevNonce(device.devEui, frame.devNonce);
      const joinNonce = await repository.nextJoinNonce(device.devEui);
      const devAddr = await allocateDevAddr(
        this.options.netId,
        async (candidate) => (await repository.devicesByDevAddr(candidate)).length > 0,
      );
      const keys = deriveSessionKeys(appKey, joinNonce, this.options.netId, frame.devNonce);
      const parameters = this.options.parametersFor(device);
      const region = getRegion(device.regionId);
      const cfList = region.joinAcceptCfList();
      const previous = await repository.getSession(device.devEui);
      const session = defaultDeviceSession(
        device,
        {
          devAddr,
          nwkSKey: bytesToHex(keys.nwkSKey),
          appSKey: bytesToHex(keys.appSKey),
          generation: nextGeneration(previous),
        },
        // The Join Accept carries rx1DrOffset, RX2 DR and RxDelay but no RX2 frequency (§6.2.5).
        { ...parameters, rx2FrequencyHz: region.rx2.frequencyHz },
        this.options.now?.() ?? new Date(),
      );
      session.extraChannels = cfList ? cfListChannels(cfList, region.defaultChannels.length) : {};
      const joinAccept = encodeJoinAccept(
        {
          appNonce: joinNonce,
          netId: this.options.netId,
          devAddr,
          rx1DrOffset: parameters.rx1DrOffset,
          rx2DataRate: parameters.rx2Dr,
          rxDelay: parameters.rxDelay,
          cfList,
        },
        appKey,
      );
      await repository.putSession(session);
      return { ok: true, device, session, joinAccept, joinNonce };
    } catch (err) {
      return reject('store_failed', `join of ${frame.devEui} could not be stored: ${describeError(err)}`);
    }
  }
}

/**
 * A CFList of type 0 (frequencies, RP002-1.0.4 §2.4.4 for EU868, §2.10.4 for AS923)
 * announces the five channels after the plan's defaults (3..7 in EU868, 2..6 in
 * AS923): five 24-bit little-endian values in units of 100 Hz; zero means unused.
 * A type 1 list (channel mask, US915/AU915) announces no frequencies.
 */
export function cfListChannels(cfList: Uint8Array, firstIndex = 3): Record<string, number> {
  const channels: Record<string, number> = {};
  if (cfList.length !== 16 || cfList[15] !== 0) return channels;
  for (let i = 0; i < 5; i++) {
    const o = i * 3;
    const value = (cfList[o] ?? 0) | ((cfList[o + 1] ?? 0) << 8) | ((cfList[o + 2] ?? 0) << 16);
    if (value !== 0) channels[String(firstIndex + i)] = value * 100;
  }
  return channels;
}
