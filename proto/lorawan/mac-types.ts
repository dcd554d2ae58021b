/**
 * LoRaWAN 1.0.x MAC commands as values (LoRaWAN 1.0.3 §5, Table 4; Class B
 * commands §13/§14 of 1.0.3, kept in 1.0.4). "Req" and "Ans" name the
 * direction: a CID means a different command uplink and downlink.
 */
export type MacCommand =
  | { cid: 'LinkCheckReq' }
  | { cid: 'LinkCheckAns'; margin: number; gwCnt: number }
  | {
      cid: 'LinkADRReq';
      dataRate: number;
      txPower: number;
      chMask: number;
      chMaskCntl: number;
      nbTrans: number;
    }
  | { cid: 'LinkADRAns'; powerAck: boolean; dataRateAck: boolean; channelMaskAck: boolean }
  /** Aggregated duty cycle limit is 1 / 2^maxDutyCycle. */
  | { cid: 'DutyCycleReq'; maxDutyCycle: number }
  | { cid: 'DutyCycleAns' }
  | { cid: 'RXParamSetupReq'; rx1DrOffset: number; rx2DataRate: number; frequencyHz: number }
  | { cid: 'RXParamSetupAns'; rx1DrOffsetAck: boolean; rx2DataRateAck: boolean; channelAck: boolean }
  | { cid: 'DevStatusReq' }
  /** battery: 0 external power, 1..254 level, 255 unknown; margin: SNR in dB, signed 6-bit (-32..31). */
  | { cid: 'DevStatusAns'; battery: number; margin: number }
  /** frequencyHz 0 disables the channel. */
  | { cid: 'NewChannelReq'; chIndex: number; frequencyHz: number; minDr: number; maxDr: number }
  | { cid: 'NewChannelAns'; dataRateRangeOk: boolean; channelFrequencyOk: boolean }
  /** delay in seconds, 0 means 1 s. */
  | { cid: 'RXTimingSetupReq'; delay: number }
  | { cid: 'RXTimingSetupAns' }
  /** maxEirp is the 4-bit index of the MaxEIRP table (1.0.3 §5.12). */
  | { cid: 'TxParamSetupReq'; downlinkDwellTime: boolean; uplinkDwellTime: boolean; maxEirp: number }
  | { cid: 'TxParamSetupAns' }
  | { cid: 'DlChannelReq'; chIndex: number; frequencyHz: number }
  | { cid: 'DlChannelAns'; uplinkFrequencyExists: boolean; channelFrequencyOk: boolean }
  | { cid: 'DeviceTimeReq' }
  /** Seconds since the GPS epoch (1980-01-06) plus fraction256 / 256 s. */
  | { cid: 'DeviceTimeAns'; gpsSeconds: number; fraction256: number }
  /** Class B: ping slot periodicity 0..7 (a slot every 2^periodicity s). */
  | { cid: 'PingSlotInfoReq'; periodicity: number }
  | { cid: 'PingSlotInfoAns' }
  | { cid: 'PingSlotChannelReq'; frequencyHz: number; dataRate: number }
  | { cid: 'PingSlotChannelAns'; dataRateOk: boolean; channelFrequencyOk: boolean }
  /** Deprecated in 1.0.3 but still defined. */
  | { cid: 'BeaconTimingReq' }
  | { cid: 'BeaconTimingAns'; delay: number; channel: number }
  | { cid: 'BeaconFreqReq'; frequencyHz: number }
  | { cid: 'BeaconFreqAns'; beaconFrequencyOk: boolean };

export type MacCommandName = MacCommand['cid'];
export type MacDirection = 'up' | 'down';
