/**
 * Writes a config as a commented TOML file: every key explained, optional keys
 * shown commented out with an example. `parseConfigText(renderConfig(c))`
 * gives back `c` (tested as a property).
 */
import { getRegion } from '../../proto/regions/index.js';
import { formatHostPort } from './fields.js';
import { validateConfig } from './load.js';
import {
  BACKEND_KINDS,
  BAUD_RATES,
  type ConfigInput,
  type FileConfig,
  LINK_KINDS,
  LOG_LEVELS,
  PLAN_IDS,
  SYNCHRONOUS_MODES,
} from './schema.js';

/** A TOML basic string. JSON escapes are valid TOML escapes; TOML also forbids a raw DEL (TOML 1.0 §String). */
function tomlString(text: string): string {
  return JSON.stringify(text).replace(/\u007f/g, '\\u007F');
}

function tomlValue(value: string | number | boolean | readonly string[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => tomlString(v)).join(', ')}]`;
  if (typeof value === 'string') return tomlString(value);
  return String(value);
}

function list(values: readonly (string | number)[]): string {
  return values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');
}

class TomlWriter {
  private readonly lines: string[] = [];

  comment(...text: string[]): this {
    for (const line of text) this.lines.push(line ? `# ${line}` : '#');
    return this;
  }

  table(name: string, ...about: string[]): this {
    if (this.lines.length) this.lines.push('');
    this.comment(...about);
    this.lines.push(`[${name}]`);
    return this;
  }

  /** A key with its explanation; `example` is written commented out when the value is absent. */
  key(
    name: string,
    value: string | number | boolean | readonly string[] | undefined,
    about: string,
    example?: string | number | readonly string[],
  ): this {
    this.lines.push(`# ${about}`);
    if (value !== undefined) this.lines.push(`${name} = ${tomlValue(value)}`);
    else if (example !== undefined) this.lines.push(`# ${name} = ${tomlValue(example)}`);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A [*.tls] table with its PEM files, or the same table commented out as an example. */
function tlsTable(
  w: TomlWriter,
  table: string,
  what: string,
  tls: { cert: string; key: string } | undefined,
): void {
  if (tls) {
    w.table(table, `${what} (PEM files).`)
      .key('cert', tls.cert, 'Certificate chain file.')
      .key('key', tls.key, 'Private key file (mode 0600).');
  } else {
    w.comment('', `${what}: uncomment and point at PEM files.`, `[${table}]`).comment(
      'cert = "/etc/maverick/tls/cert.pem"',
      'key = "/etc/maverick/tls/key.pem"',
    );
  }
}

/** The commented TOML text of a validated config. */
export function renderConfig(config: FileConfig): string {
  const w = new TomlWriter();
  w.comment(
    'Maverick gateway configuration (TOML). Written by `maverick init`; edit freely.',
    'Unknown keys are errors, so a typo is caught at start. Command-line flags of',
    '`maverick run` override these values. Check with `maverick doctor`.',
  );
  w.table('gateway', 'This gateway: its identity and the LoRaWAN region it operates in.')
    .key(
      'id',
      config.gateway.id,
      'Gateway EUI: 16 hex characters (usually from the Pi MAC with fffe in the middle).',
    )
    .key(
      'region',
      config.gateway.region,
      `LoRaWAN regional parameters: ${list(PLAN_IDS)}; US915/AU915 sub-band n as "AU915-SBn" (plain = 2).`,
    )
    .key(
      'net_id',
      config.gateway.net_id,
      'LoRaWAN NetID (6 hex characters); "000000" for a private network.',
    );

  const backend = config.radio.backend;
  w.table('radio', 'How the concentrator reaches Maverick.').key(
    'backend',
    backend.length === 1 ? backend[0] : backend,
    `${list(BACKEND_KINDS)}, or a list to run several at once, e.g. ["semtech-udp", "serial"].`,
  );
  w.table('radio.udp', 'Semtech UDP packet forwarder (lora_pkt_fwd) backend.')
    .key(
      'bind',
      formatHostPort(config.radio.udp.bind),
      'Address the forwarder sends to: its server_address and serv_port_up/down.',
    )
    .key(
      'receive_buffer_kb',
      config.radio.udp.receive_buffer_kb,
      'Socket receive buffer (KiB) that absorbs bursts while the gateway is busy; a forwarder never ' +
        'resends a dropped datagram. Linux caps it at net.core.rmem_max (maverick doctor checks it).',
    )
    .key(
      'gateways',
      config.radio.udp.gateways.length > 0 ? config.radio.udp.gateways : undefined,
      'Forwarders heard besides gateway.id (its gateway_ID); any other EUI is dropped and counted.',
      ['0016c001ff10a235'],
    );
  w.table('radio.serial', 'Maverick serial concentrator (a bridge MCU on USB/UART).')
    .key(
      'path',
      config.radio.serial.path,
      'Serial device (udev gives it a stable name).',
      '/dev/maverick-concentrator',
    )
    .key('baud', config.radio.serial.baud, `Baud rate: ${list(BAUD_RATES)}.`);
  w.table(
    'radio.single_channel',
    'Single-channel modem (RAK3172 / RN2483): receive-mostly, NOT LoRaWAN-compliant for downlinks.',
  )
    .key('path', config.radio.single_channel.path, 'Serial device of the modem.', '/dev/ttyUSB0')
    .key('baud', config.radio.single_channel.baud, `Baud rate: ${list(BAUD_RATES)}.`)
    .key(
      'frequency_hz',
      config.radio.single_channel.frequency_hz,
      'The one frequency it listens on, in Hz, inside the region band.',
      // The example is the plan's first uplink channel, so it is valid for the configured region.
      getRegion(config.gateway.region).uplinkChannels[0]?.frequencyHz,
    );

  w.table(
    'mqtt',
    'Local MQTT broker for farm apps (ChirpStack v4 topics). Embedded unless external_url is set.',
  )
    .key(
      'host',
      config.mqtt.host,
      'Address the embedded broker listens on ("0.0.0.0" to serve the farm LAN, which needs [mqtt.tls]).',
    )
    .key(
      'allow_plaintext_lan',
      config.mqtt.allow_plaintext_lan,
      'true lets the broker listen beyond loopback WITHOUT TLS (passwords in clear): closed networks only.',
    )
    .key('port', config.mqtt.port, 'TCP port, 1..65535.')
    .key('username', config.mqtt.username, 'User name farm apps log in with.')
    .key(
      'password_file',
      config.mqtt.password_file,
      'File holding the password (mode 0600; relative to the data dir). The password is never in this file.',
    )
    .key(
      'external_url',
      config.mqtt.external_url,
      'Use an existing broker instead of the embedded one.',
      'mqtt://127.0.0.1:1883',
    );
  tlsTable(w, 'mqtt.tls', 'TLS for the embedded broker', config.mqtt.tls);

  w.table('store', 'Telemetry store (SQLite on the data dir).')
    .key(
      'synchronous',
      config.store.synchronous,
      `SQLite synchronous mode: ${list(SYNCHRONOUS_MODES)}. FULL survives power cuts.`,
    )
    .key(
      'retention_days',
      config.store.retention_days,
      'Days of telemetry kept after it has been sealed and acknowledged.',
    )
    .key(
      'quota_mb',
      config.store.quota_mb,
      'Size limit of the store in MB; oldest acknowledged data goes first.',
    );
  w.table('sealer', 'Signed, hash-chained bundles of what the gateway heard.').key(
    'interval_minutes',
    config.sealer.interval_minutes,
    'Seal a bundle every this many minutes (1..10080).',
  );
  w.table('regional', 'Regional node that receives bundles. Without a url, bundles wait in the outbox.')
    .key('url', config.regional.url, 'Regional MQTT 5 broker.', 'mqtts://regional.example.org:8883')
    .key(
      'node_key',
      config.regional.node_key,
      "The regional node's public key (PEM, from its keys/regional-node.pub): acks must be signed with it. Required with url.",
      'regional-node.pub',
    )
    .key('links', config.regional.links, `Links to try, in order of preference: ${list(LINK_KINDS)}.`)
    .key(
      'sbd_path',
      config.regional.sbd_path,
      'Serial device of the Iridium SBD modem (9602/9603, e.g. RockBLOCK) for the "satellite" link.',
    )
    .key(
      'sbd_baud',
      config.regional.sbd_baud,
      `Modem baud rate (9602/9603 default 19200): ${list(BAUD_RATES)}.`,
    )
    .key(
      'satellite_daily_bytes',
      config.regional.satellite_daily_bytes,
      'Satellite bytes per UTC day (one credit per 50 bytes); alarms and commitments go first, then bundles.',
    )
    .key(
      'satellite_repeat_percent',
      config.regional.satellite_repeat_percent,
      'Percent of the daily satellite bytes that resends without a reply may take (they back off from 30 s to 6 h).',
    );
  w.table('metrics', 'Prometheus /metrics and the /status JSON used by `maverick status` and `doctor`.').key(
    'bind',
    formatHostPort(config.metrics.bind),
    'HOST:PORT to serve on.',
  );
  w.table('console', 'The farm console: a phone-friendly web page served by `maverick run`.')
    .key('enabled', config.console.enabled, 'Serve the console (true or false).')
    .key('port', config.console.port, 'TCP port, 1..65535.')
    .key(
      'lan',
      config.console.lan,
      'false: this machine only (127.0.0.1). true: every interface, so phones on the farm LAN reach it (set tls too).',
    )
    .key(
      'password_file',
      config.console.password_file,
      'scrypt hash of the admin password (mode 0600), written by `maverick init`.',
    );
  tlsTable(w, 'console.tls', 'HTTPS for the console', config.console.tls);
  w.table('log', 'Structured logs (JSON lines on stderr; journald keeps them under systemd).').key(
    'level',
    config.log.level,
    `${list(LOG_LEVELS)}.`,
  );
  return w.text();
}

/** Fills defaults around what `init` knows (gateway id, region, MQTT user) and renders the commented file. */
export function renderDefaultConfig(values: ConfigInput): string {
  return renderConfig(validateConfig(values, '(maverick init values)'));
}
