/**
 * LoRaWAN 1.0.x frame types as Maverick's API sees them.
 *
 * Conventions: EUIs, DevAddr and NetID are lower-case hex strings in big-endian
 * (label / console) order; on air they are little-endian. Counters are numbers.
 */

/** MHDR.MType names (LoRaWAN 1.0.3 §4.2.1, Table 1). */
export type MType =
  | 'JoinRequest'
  | 'JoinAccept'
  | 'UnconfirmedDataUp'
  | 'UnconfirmedDataDown'
  | 'ConfirmedDataUp'
  | 'ConfirmedDataDown'
  | 'RejoinRequest'
  | 'Proprietary';

/** Indexed by the 3-bit MType field. */
export const MTYPES: readonly MType[] = [
  'JoinRequest',
  'JoinAccept',
  'UnconfirmedDataUp',
  'UnconfirmedDataDown',
  'ConfirmedDataUp',
  'ConfirmedDataDown',
  'RejoinRequest',
  'Proprietary',
];

/**
 * Frame control bits (LoRaWAN 1.0.3 §4.3.1). Bit 4 means ClassB uplink and
 * FPending downlink; bit 6 is ADRACKReq uplink and RFU downlink.
 */
export interface FCtrl {
  adr: boolean;
  adrAckReq: boolean;
  ack: boolean;
  fPending: boolean;
  classB: boolean;
}

export interface DataFrame {
  kind: 'data';
  mType: MType;
  uplink: boolean;
  confirmed: boolean;
  devAddr: string;
  fCtrl: FCtrl;
  /** The 16 least significant bits of the frame counter, as on air. */
  fCnt16: number;
  /** FOpts as on air (plaintext in 1.0.x). */
  fOpts: Uint8Array;
  fPort?: number;
  /** FRMPayload as on air (encrypted). */
  frmPayload: Uint8Array;
  mic: Uint8Array;
  /** The whole PHYPayload (a private copy; the other fields are views into it). */
  phy: Uint8Array;
}

export interface JoinRequestFrame {
  kind: 'join-request';
  joinEui: string;
  devEui: string;
  devNonce: number;
  mic: Uint8Array;
  phy: Uint8Array;
}

export interface JoinAcceptFrame {
  kind: 'join-accept';
  /** Encrypted; decode with decodeJoinAccept and the AppKey. */
  phy: Uint8Array;
}

export type DecodedPhy = DataFrame | JoinRequestFrame | JoinAcceptFrame;

export interface SessionKeys {
  nwkSKey: Uint8Array;
  appSKey: Uint8Array;
}

export type DataMType = 'UnconfirmedDataUp' | 'ConfirmedDataUp' | 'UnconfirmedDataDown' | 'ConfirmedDataDown';

export interface DataFrameInput {
  mType: DataMType;
  devAddr: string;
  /** Full 32-bit counter: its 16 LSBs go on air, all 32 bits into B0 and the Ai blocks. */
  fCnt32: number;
  fCtrl?: Partial<FCtrl>;
  /** Plaintext MAC commands, at most 15 bytes. */
  fOpts?: Uint8Array;
  fPort?: number;
  /** Plaintext application payload (or MAC commands when fPort is 0). */
  payload?: Uint8Array;
}

export interface JoinAcceptFields {
  /** AppNonce (JoinNonce in 1.0.4), 24 bit. */
  appNonce: number;
  /** NetID, 6 hex characters, big-endian. */
  netId: string;
  devAddr: string;
  rx1DrOffset: number;
  rx2DataRate: number;
  /** RxDelay in seconds; 0 means 1 s (LoRaWAN 1.0.3 §5.7). */
  rxDelay: number;
  /** 16 bytes when present. */
  cfList?: Uint8Array;
}
