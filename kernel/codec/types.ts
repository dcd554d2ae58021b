/** Which payload codec a device profile uses, and what any codec returns. */

export type CodecRef = { kind: 'none' } | { kind: 'cayenne-lpp' } | { kind: 'js'; path: string };

/**
 * ChirpStack / TTS codec result shape. `data` is absent when decoding failed;
 * `errors` non-empty means the payload (or the codec) is bad.
 */
export interface CodecResult {
  data?: Record<string, unknown>;
  warnings: string[];
  errors: string[];
}

export interface EncodeResult {
  bytes?: Uint8Array;
  /** The codec may choose the port; the caller's port is used when absent. */
  fPort?: number;
  warnings: string[];
  errors: string[];
}

export interface UplinkInput {
  bytes: Uint8Array;
  fPort: number;
  recvTime: Date;
}
