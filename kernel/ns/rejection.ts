/** Why a frame was turned away; each reason has its own counter (`counters()`). */
export type RejectionReason =
  | 'malformed'
  | 'unsupported_mtype'
  | 'unknown_device'
  | 'bad_mic'
  | 'replay'
  | 'devnonce_reused'
  | 'store_failed'
  /** The store already holds a different frame under this uplink's identity (an alarm). */
  | 'store_conflict';

export interface Rejection {
  reason: RejectionReason;
  message: string;
  devEui?: string;
  devAddr?: string;
  /** The receiver with the best SNR. */
  gatewayEui?: string;
  /** Extra structured fields for the log line. */
  details?: Record<string, unknown>;
}
