/**
 * The schema of `<dataDir>/maverick.toml`. Keys are written as in the file
 * (snake_case), so an error path is exactly what the technician must edit.
 * Every table is strict: an unknown key (a typo) is an error, never ignored.
 */
import { z } from 'zod';
import {
  getRegion,
  PLAN_IDS,
  REGION_IDS,
  type RegionId,
  regionIdOf,
  SUB_BAND_PLANS,
} from '../../proto/regions/index.js';
import { hostPortField, intIn, matching, nonEmpty, oneOf, urlWithScheme } from './fields.js';

/** Every region id the config accepts (proto/regions is the one list), and the plans. */
export const REGIONS = REGION_IDS;
export { PLAN_IDS };
export type Region = RegionId;
const regionAllowed = `one of ${PLAN_IDS.map((p) => JSON.stringify(p)).join(', ')} in any case; ${SUB_BAND_PLANS.join('/')} take a sub-band as "AU915-SB1".."AU915-SB8" (plain = sub-band 2)`;
/** A region name in any case, stored in its canonical spelling. */
const regionField = z.string({ error: regionAllowed }).transform((text, ctx) => {
  const id = regionIdOf(text);
  if (id) return id;
  ctx.addIssue({ code: 'custom', message: regionAllowed });
  return z.NEVER;
});

/**
 * Default port of /metrics and /status. Not 9100: that is Prometheus's
 * node_exporter, which many Pis run. 8868 (after the 868 MHz band) is used by
 * none of the services common on a Pi gateway (node_exporter 9100, Prometheus
 * 9090, Grafana 3000, Node-RED 1880, Mosquitto 1883/8883/9001, InfluxDB 8086,
 * ChirpStack 8080, Home Assistant 8123, Portainer 9000/9443).
 */
export const DEFAULT_METRICS_PORT = 8868;

export const BACKEND_KINDS = ['semtech-udp', 'serial', 'single-channel'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export const LINK_KINDS = ['mqtt', 'satellite'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
/** OFF is not offered: it loses acknowledged data on a power cut. */
export const SYNCHRONOUS_MODES = ['NORMAL', 'FULL', 'EXTRA'] as const;

/** Band edges in Hz of a region (RP002-1.0.4), e.g. for a single-channel modem's frequency. */
export function regionBandHz(region: Region): readonly [number, number] {
  return getRegion(region).bandHz;
}

const euiAllowed = '16 hexadecimal characters (an EUI-64), e.g. "b827ebfffe123456"';

const gatewaySection = z.strictObject(
  {
    id: matching(/^[0-9a-fA-F]{16}$/, euiAllowed).transform((s) => s.toLowerCase()),
    region: regionField,
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

/** The Semtech UDP socket's receive buffer asked for by default (KiB). */
export const DEFAULT_UDP_RECEIVE_BUFFER_KB = 8192;

const radioSection = z.strictObject({
  backend: backendField.default(['semtech-udp']),
  udp: z
    .strictObject({
      bind: hostPortField.default({ host: '127.0.0.1', port: 1700 }),
      // Room for ~1 s of a 5,000 uplinks/s burst while the event loop is busy; Linux caps it at net.core.rmem_max.
      receive_buffer_kb: intIn(64, 1_048_576, 'KiB').default(DEFAULT_UDP_RECEIVE_BUFFER_KB),
      // More forwarders allowed besides gateway.id (whose own forwarder is always allowed).
      gateways: z
        .array(
          matching(/^[0-9a-fA-F]{16}$/, euiAllowed).transform((s) => s.toLowerCase()),
          {
            error: `a list of gateway EUIs, each ${euiAllowed}`,
          },
        )
        .default([]),
    })
    .prefault({}),
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
  // Beyond loopback the broker needs [mqtt.tls]; this says explicitly that the LAN is closed.
  allow_plaintext_lan: z.boolean({ error: 'true or false' }).default(false),
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
  // The share of that day that resends without a reply (probes) may take: a silent regional node costs little.
  satellite_repeat_percent: intIn(0, 100, '%').default(25),
});

const metricsSection = z.strictObject({
  bind: hostPortField.default({ host: '127.0.0.1', port: DEFAULT_METRICS_PORT }),
});

/** The farm console: loopback only unless `lan = true`; HTTPS when a certificate is configured. */
const consoleSection = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  port: intIn(1, 65535).default(8088),
  lan: z.boolean({ error: 'true or false' }).default(false),
  password_file: nonEmpty('a file path (relative paths are inside the data dir)').default('console-password'),
  tls: z
    .strictObject({
      cert: nonEmpty('a PEM certificate file path'),
      key: nonEmpty('a PEM private key file path'),
    })
    .optional(),
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
    console: consoleSection.prefault({}),
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
      const [lo, hi] = regionBandHz(config.gateway.region);
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
