/**
 * The shapes of the console's device health rows, with no imports: the page
 * (gateway/console/web) type-checks against the same definitions as the server.
 */
export interface DeviceHealth {
  devEui: string;
  name: string;
  applicationId: string;
  activation: 'otaa' | 'abp';
  joinEui?: string;
  plotId?: string;
  codec: string;
  devAddr?: string;
  /** ms since the epoch of the last stored uplink. */
  lastSeenMs?: number;
  rssi?: number;
  snr?: number;
  /** 0 = external power, 1..254 = level, 255 = unknown (LoRaWAN DevStatusAns). */
  battery?: number;
  fCnt?: number;
  uplinks24h: number;
  lastError?: { message: string; atMs: number };
}

/** A DevEUI that sent a join request the gateway does not know ("heard but not registered"). */
export interface HeardDevice {
  devEui: string;
  joinEui?: string;
  lastHeardMs: number;
  attempts: number;
}
