/**
 * One error class for all of Maverick, with numeric codes in ranges by area
 * (the zwave-js pattern): callers branch on `code` or on the range guards, and
 * every message says what went wrong and what to do about it.
 */

/** Code ranges. Each area owns one block of a thousand codes. */
export const ErrorRange = {
  config: [1000, 1999],
  wire: [2000, 2999],
  lorawan: [3000, 3999],
  store: [4000, 4999],
  bundle: [5000, 5999],
  link: [6000, 6999],
  regional: [7000, 7999],
  radio: [8000, 8999],
  mqtt: [9000, 9999],
} as const satisfies Record<string, readonly [number, number]>;

export type ErrorArea = keyof typeof ErrorRange;

export const ErrorCode = {
  // config / CLI
  ConfigMissing: 1000,
  ConfigInvalid: 1001,
  ConfigParse: 1002,
  CliUsage: 1003,
  KeyFilePermissions: 1004,
  DataDirMissing: 1005,
  /** `maverick init` found an existing setup and --force was not given. */
  SetupExists: 1006,
  /** A secret file (MQTT password) is missing, empty or unreadable. */
  SecretMissing: 1007,
  /** The metrics/status HTTP server could not listen on metrics.bind. */
  MetricsBind: 1008,
  /** The farm console could not start (port in use, TLS files unreadable, page not built). */
  ConsoleBind: 1020,
  /** `maverick demo` could not complete a step (the gateway refused, the farm ran out of time). */
  DemoFailed: 1900,
  // wire formats (untrusted bytes)
  WireTruncated: 2000,
  WireBadVersion: 2001,
  WireBadIdentifier: 2002,
  WireBadJson: 2003,
  WireBadField: 2004,
  WireBadChecksum: 2005,
  WireOversize: 2006,
  WireBadFraming: 2007,
  WireUnknownMessage: 2008,
  // LoRaWAN core
  LorawanMalformed: 3000,
  LorawanBadMic: 3001,
  LorawanUnknownDevice: 3002,
  LorawanReplay: 3003,
  LorawanDevNonceReused: 3004,
  LorawanNoSession: 3005,
  LorawanCodec: 3006,
  LorawanRegion: 3007,
  LorawanMacCommand: 3008,
  LorawanDownlink: 3009,
  /** A device registration field is invalid (the context names the field). */
  LorawanDeviceInvalid: 3010,
  /** The simulated end device was asked for something its state does not allow (not joined, nothing to retransmit). */
  LorawanDeviceState: 3012,
  // store
  StoreCorrupt: 4000,
  StoreDiskFull: 4001,
  StoreConflict: 4002,
  StoreClosed: 4003,
  StoreUnsupported: 4004,
  StoreQuota: 4005,
  StoreIo: 4006,
  // bundles / crypto
  BundleMalformed: 5000,
  BundleNonCanonical: 5001,
  BundleBadSignature: 5002,
  BundleUnknownKey: 5003,
  BundleOversize: 5004,
  BundleDecompressionBomb: 5005,
  BundleChain: 5006,
  KeyMissing: 5007,
  KeyInvalid: 5008,
  KeyExists: 5009,
  BundleSequence: 5010,
  // links / sync
  LinkDown: 6000,
  LinkTimeout: 6001,
  LinkModem: 6002,
  LinkFragment: 6003,
  LinkBudget: 6004,
  LinkDirectIp: 6005,
  // regional node
  RegionalReplay: 7000,
  RegionalEquivocation: 7001,
  RegionalGap: 7002,
  RegionalUnknownGateway: 7003,
  RegionalChain: 7004,
  RegionalStore: 7005,
  // radio backends
  RadioNotStarted: 8000,
  RadioBind: 8001,
  RadioSerialOpen: 8002,
  RadioNoRoute: 8003,
  RadioTxTimeout: 8004,
  RadioTxRejected: 8005,
  RadioUnsupported: 8006,
  // local MQTT broker, event publishers, payload codecs
  MqttBind: 9000,
  MqttTls: 9001,
  MqttBadTopic: 9002,
  MqttBadCommand: 9003,
  MqttPublish: 9004,
  MqttClosed: 9005,
  CodecInvalid: 9006,
  MqttConnect: 9007,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

const codeNames = new Map<number, ErrorCodeName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorCodeName]),
);

export interface MaverickErrorOptions {
  /** What the user can do about it; appended to the message. */
  hint?: string;
  /** Structured context for logs (field names, values, addresses). */
  context?: Record<string, unknown>;
  cause?: unknown;
}

export class MaverickError extends Error {
  readonly code: ErrorCodeValue;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown> | undefined;

  constructor(code: ErrorCodeValue, message: string, options: MaverickErrorOptions = {}) {
    super(options.hint ? `${message} (${options.hint})` : message, { cause: options.cause });
    this.name = 'MaverickError';
    this.code = code;
    this.hint = options.hint;
    this.context = options.context;
  }

  /** Symbolic name of the code, e.g. `LorawanBadMic`. */
  get codeName(): ErrorCodeName | 'Unknown' {
    return codeNames.get(this.code) ?? 'Unknown';
  }

  get area(): ErrorArea | undefined {
    return areaOf(this.code);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      codeName: this.codeName,
      message: this.message,
      context: this.context,
    };
  }
}

export function areaOf(code: number): ErrorArea | undefined {
  for (const [area, [lo, hi]] of Object.entries(ErrorRange)) {
    if (code >= lo && code <= hi) return area as ErrorArea;
  }
  return undefined;
}

export function isMaverickError(err: unknown, code?: ErrorCodeValue): err is MaverickError {
  return err instanceof MaverickError && (code === undefined || err.code === code);
}

function inArea(area: ErrorArea) {
  return (err: unknown): err is MaverickError => err instanceof MaverickError && areaOf(err.code) === area;
}

export const isConfigError = inArea('config');
export const isWireError = inArea('wire');
export const isLorawanError = inArea('lorawan');
export const isStoreError = inArea('store');
export const isBundleError = inArea('bundle');
export const isLinkError = inArea('link');
export const isRegionalError = inArea('regional');
export const isRadioError = inArea('radio');
export const isMqttError = inArea('mqtt');

/** Normalises anything thrown into a message fit for a log line. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
