/**
 * A minimal LoRaWAN 1.0.x device for tests, built only on proto/lorawan: it
 * joins, sends data frames and reads downlinks, keeping its own counters.
 */
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
  type SessionKeys,
  verifyDataMic,
} from '../../proto/lorawan/index.js';
import { type Device, hexToBytes } from './types.js';

/** A registry entry for repository tests: an OTAA probe with all-zero keys, no codec. */
export const PROBE_DEVICE: Device = {
  devEui: '0102030405060708',
  name: 'probe',
  applicationId: 'farm',
  regionId: 'EU868',
  codec: { kind: 'none' },
  activation: { mode: 'otaa', joinEui: '0000000000000000', appKey: '00'.repeat(16) },
  skipFCntCheck: false,
};

export interface ReadDownlink {
  frame: DataFrame;
  fCnt: number;
  mac: MacCommand[];
  payload: Uint8Array;
}

export class TestDevice {
  devAddr?: string;
  keys?: SessionKeys;
  fCntUp = 0;
  fCntDown?: number;
  private devNonce = 0x1000;

  constructor(
    readonly devEui: string,
    readonly joinEui: string,
    readonly appKey: string,
  ) {}

  /** Uses ABP session material instead of joining. */
  static abp(devEui: string, devAddr: string, nwkSKey: string, appSKey: string): TestDevice {
    const d = new TestDevice(devEui, '0000000000000000', '00'.repeat(16));
    d.devAddr = devAddr;
    d.keys = { nwkSKey: hexToBytes(nwkSKey), appSKey: hexToBytes(appSKey) };
    return d;
  }

  joinRequest(devNonce = ++this.devNonce): Uint8Array {
    this.devNonce = devNonce;
    return encodeJoinRequest(
      { joinEui: this.joinEui, devEui: this.devEui, devNonce },
      hexToBytes(this.appKey),
    );
  }

  /** Applies a join accept; returns its fields. */
  acceptJoin(phy: Uint8Array) {
    const fields = decodeJoinAccept(phy, hexToBytes(this.appKey));
    this.devAddr = fields.devAddr;
    this.keys = deriveSessionKeys(hexToBytes(this.appKey), fields.appNonce, fields.netId, this.devNonce);
    this.fCntUp = 0;
    this.fCntDown = undefined;
    return fields;
  }

  /** A data uplink with the next frame counter (or `fCnt` when given). */
  uplink(
    opts: {
      fPort?: number;
      payload?: Uint8Array;
      confirmed?: boolean;
      fOpts?: Uint8Array;
      adr?: boolean;
      ack?: boolean;
      fCnt?: number;
    } = {},
  ): Uint8Array {
    if (!this.devAddr || !this.keys) throw new Error('device has no session');
    const fCnt32 = opts.fCnt ?? this.fCntUp;
    this.fCntUp = fCnt32 + 1;
    return encodeDataFrame(
      {
        mType: opts.confirmed ? 'ConfirmedDataUp' : 'UnconfirmedDataUp',
        devAddr: this.devAddr,
        fCnt32,
        fCtrl: { adr: opts.adr ?? false, ack: opts.ack ?? false },
        fOpts: opts.fOpts,
        fPort: opts.fPort ?? (opts.payload ? 1 : undefined),
        payload: opts.payload,
      },
      this.keys,
    );
  }

  /** Verifies and decrypts a downlink meant for this device. */
  readDownlink(phy: Uint8Array): ReadDownlink {
    if (!this.keys) throw new Error('device has no session');
    const frame = decodePhy(phy);
    if (frame.kind !== 'data' || frame.uplink) throw new Error('not a data downlink');
    const fCnt = reconstructFCnt(this.fCntDown, frame.fCnt16);
    if (!verifyDataMic(frame, this.keys.nwkSKey, fCnt)) throw new Error('downlink MIC does not verify');
    this.fCntDown = fCnt;
    let payload = new Uint8Array(0) as Uint8Array;
    let macBytes: Uint8Array = frame.fOpts;
    if (frame.fPort !== undefined) {
      const plain = decryptFrmPayload(frame, frame.fPort === 0 ? this.keys.nwkSKey : this.keys.appSKey, fCnt);
      if (frame.fPort === 0) macBytes = plain;
      else payload = plain;
    }
    return { frame, fCnt, mac: parseMacCommands(macBytes, 'down').commands, payload };
  }
}
