/**
 * The schema of `<dataDir>/maverick.toml`. Keys are written as in the file
 * (snake_case), so an error path is exactly what the technician must edit.
 * Every table is strict: an unknown key (a typo) is an error, never ignored.
 */
import { z } from 'zod';
import { hostPortField, intIn, matching, nonEmpty, oneOf, urlWithScheme } from './fields.js';

export const REGIONS = ['EU868', 'US915'] as const;
export type Region = (typeof REGIONS)[number];

export const BACKEND_KINDS = ['semtech-udp', 'serial', 'single-channel'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export const LINK_KINDS = ['mqtt', 'satellite'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
/** OFF is not offered: it loses acknowledged data on a power cut. */
export const SYNCHRONOUS_MODES = ['NORMAL', 'FULL', 'EXTRA'] as const;

/** Band edges in Hz for a single-channel modem's frequency (LoRaWAN Regional Parameters RP002-1.0.3 §2.4, §2.5). */
export const REGION_BAND_HZ: Record<Region, readonly [number, number]> = {
  EU868: [863_000_000, 870_000_000],
  US915: [902_000_000, 928_000_000],
};

const euiAllowed = '16 hexadecimal characters (an EUI-64), e.g. "b827ebfffe123456"';

const gatewaySection = z.strictObject(
  {
    id: matching(/^[0-9a-fA-F]{16}$/, euiAllowed).transform((s) => s.toLowerCase()),
    region: oneOf(REGIONS),
    net_id: matching(/^[0-9a-fA-F]{6}$/, '6 hexadecimal characters (a 24-bit NetID), e.g. "000000"')
      .transform((s) => s.toLowerCase())
      .default('000000'),
  },
  { error: 'a [gateway] table with at least id and region' },
);

const backendAllowed = `one of ${BACKEND_KINDS.map((b) => `"${b}"`).join(', ')}, or a list of them without repeats`;
const backendField = z
  .union([oneOf(BACKEND_KINDS), z.array(oneOf(BACKEND_KINDS)).min(1, { error: backendAllowed })], {
    error: backendAllowed,
  })
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .refine((list) => new Set(list).size === list.length, { error: backendAllowed });

const serialPathAllowed = 'a device path, e.g. "/dev/maverick-concentrator" or "/dev/ttyACM0"';
export const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600] as const;
const baudAllowed = `one of ${BAUD_RATES.join(', ')}`;
const baudWithDefault = (fallback: (typeof BAUD_RATES)[number]) =>
  z
    .number({ error: baudAllowed })
    .refine((n) => (BAUD_RATES as readonly number[]).includes(n), { error: baudAllowed })
    .default(fallback);
const baud = baudWithDefault(115200);

const radioSection = z.strictObject({
  backend: backendField.default(['semtech-udp']),
  udp: z.strictObject({ bind: hostPortField.default({ host: '127.0.0.1', port: 1700 }) }).prefault({}),
  serial: z.strictObject({ path: nonEmpty(serialPathAllowed).optional(), baud }).prefault({}),
  single_channel: z
    .strictObject({
      path: nonEmpty(serialPathAllowed).optional(),
      baud,
      frequency_hz: intIn(100_000_000, 1_000_000_000, 'Hz').optional(),
    })
    .prefault({}),
});

const mqttSection = z.strictObject({
  host: nonEmpty('a host name or address, e.g. "127.0.0.1"').default('127.0.0.1'),
  port: intIn(1, 65535).default(1883),
  username: matching(/^[A-Za-z0-9._-]{1,64}$/, '1..64 letters, digits, ".", "_" or "-"').default('maverick'),
  password_file: nonEmpty('a file path (relative paths are inside the data dir)').default('mqtt-password'),
  tls: z
    .strictObject({
      cert: nonEmpty('a PEM certificate file path'),
      key: nonEmpty('a PEM private key file path'),
    })
    .optional(),
  external_url: urlWithScheme(['mqtt', 'mqtts']).optional(),
});

const storeSection = z.strictObject({
  synchronous: oneOf(SYNCHRONOUS_MODES).default('FULL'),
  retention_days: intIn(1, 36500, 'days').default(365),
  quota_mb: intIn(16, 1_048_576, 'MB').default(2048),
});

const sealerSection = z.strictObject({
  interval_minutes: intIn(1, 10080, 'minutes').default(60),
});

const linkAllowed = `a list of ${LINK_KINDS.map((l) => `"${l}"`).join(', ')} without repeats`;
/** The name hardware/udev gives an Iridium modem's USB-UART (doctor checks the same path). */
export const DEFAULT_SBD_PATH = '/dev/maverick-satmodem';
const regionalSection = z.strictObject({
  url: urlWithScheme(['mqtt', 'mqtts']).optional(),
  // The regional node's Ed25519 public key (PEM): acks over MQTT must be signed with it.
  node_key: nonEmpty('a PEM public key file path (relative paths are inside the data dir)').optional(),
  links: z
    .array(oneOf(LINK_KINDS), { error: linkAllowed })
    .refine((list) => new Set(list).size === list.length, { error: linkAllowed })
    .default(['mqtt']),
  // The satellite link: an Iridium 9602/9603 SBD modem (e.g. RockBLOCK), used when "satellite" is in links.
  sbd_path: nonEmpty(serialPathAllowed).default(DEFAULT_SBD_PATH),
  // 9602/9603 ship at 19200 8N1 (Iridium ISU AT Command Reference, AT+IPR).
  sbd_baud: baudWithDefault(19200),
  // Satellite bytes per UTC day (RockBLOCK bills one credit per 50 bytes): ≥ one 340-byte message.
  satellite_daily_bytes: intIn(340, 10_000_000, 'bytes').default(4000),
});

const metricsSection = z.strictObject({
  bind: hostPortField.default({ host: '127.0.0.1', port: 9100 }),
});

const logSection = z.strictObject({ level: oneOf(LOG_LEVELS).default('info') });

export const configSchema = z
  .strictObject({
    gateway: gatewaySection,
    radio: radioSection.prefault({}),
    mqtt: mqttSection.prefault({}),
    store: storeSection.prefault({}),
    sealer: sealerSection.prefault({}),
    regional: regionalSection.prefault({}),
    metrics: metricsSection.prefault({}),
    log: logSection.prefault({}),
  })
  .superRefine((parsed, ctx) => {
    // Cross-field rules: a backend that is switched on needs its device settings.
    // zod may run this even when other fields already failed, so read defensively.
    const config = parsed as DeepPartialOutput;
    if (!config.radio?.backend || !config.gateway?.region) return;
    const backends = config.radio.backend;
    const serial = config.radio.serial ?? {};
    const sc = config.radio.single_channel ?? {};
    if (backends.includes('serial') && serial.path === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['radio', 'serial', 'path'],
        message: `required when radio.backend includes "serial": ${serialPathAllowed}`,
      });
    }
    if (backends.includes('single-channel')) {
      if (sc.path === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['radio', 'single_channel', 'path'],
          message: `required when radio.backend includes "single-channel": ${serialPathAllowed}`,
        });
      }
      const [lo, hi] = REGION_BAND_HZ[config.gateway.region] ?? [0, 0];
      if (sc.frequency_hz === undefined || sc.frequency_hz < lo || sc.frequency_hz > hi) {
        ctx.addIssue({
          code: 'custom',
          path: ['radio', 'single_channel', 'frequency_hz'],
          message: `an integer ${lo}..${hi} Hz (the ${config.gateway.region} band), required with "single-channel"`,
        });
      }
    }
    if (backends.includes('serial') && backends.includes('single-channel')) {
      if (serial.path !== undefined && serial.path === sc.path) {
        ctx.addIssue({
          code: 'custom',
          path: ['radio', 'single_channel', 'path'],
          message: 'a different device from radio.serial.path (one port cannot serve two backends)',
        });
      }
    }
  });

interface DeepPartialOutput {
  gateway?: { region?: Region };
  radio?: {
    backend?: BackendKind[];
    serial?: { path?: string };
    single_channel?: { path?: string; frequency_hz?: number };
  };
}

/** What the file may contain (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated file, defaults applied. */
export type FileConfig = z.output<typeof configSchema>;
/** The validated config plus where it came from. */
export type MaverickConfig = FileConfig & {
  /** Absolute data directory; relative paths in the file are resolved against it. */
  dataDir: string;
};
