/**
 * The gateway's way to the regional node: the outbox, the sync engine and its
 * links in order of preference — MQTT over IP (bytes nearly free) and the
 * Iridium SBD satellite link (340-byte messages, paid per credit).
 *
 * Priority and budget (kernel/outbox): only the first usable link sends, so
 * while IP is up nothing is paid for twice. When IP is down the satellite link
 * carries the outbox in its priority order — alarms, then daily commitments,
 * then bundles, then diagnostics — until the satellite's daily byte budget
 * (`satellite_daily_bytes`, persisted per UTC day) is spent; whatever is left
 * waits for IP. A running satellite transmission stops at its next message
 * once IP is back, and IP carries the whole item.
 */
import { readFile } from 'node:fs/promises';
import type { FarmDatabase } from '../kernel/db/farm-db.js';
import type { LinkBudgetOptions } from '../kernel/outbox/budget.js';
import { Outbox, RxdbOutboxStore, SyncEngine, type SyncLink } from '../kernel/outbox/index.js';
import { publicKeyFromPem } from '../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import { createMessageLink } from './link/message-link.js';
import { type OpenedModem, SatelliteModemSlot } from './satellite-modem-slot.js';

export type RegionalLinkKind = 'mqtt' | 'satellite';

export interface SatelliteSyncOptions {
  /** Serial device of the SBD modem, e.g. /dev/maverick-satmodem. */
  path: string;
  baudRate?: number;
  /** Satellite bytes per UTC day (default 4000). */
  dailyBytes?: number;
  /** Share of the day that resends without a reply may take (default 0.25, kernel/outbox/budget.ts). */
  repeatShare?: number;
  /** How often the modem's signal is checked (and an absent modem looked for). Default 60 s. */
  checkEveryMs?: number;
  /** With an IP link: the first check waits for MQTT's first connect, at most this long (default 5 s). */
  startDelayMs?: number;
  /** Opens the modem; default `openSbdModem(path)`. */
  open?: () => Promise<OpenedModem>;
}

export interface RegionalSyncOptions {
  /** The regional MQTT broker; no IP link when absent. */
  regionalUrl?: string;
  /** The regional node's public key (PEM file, [regional] node_key): required with `regionalUrl`. */
  regionalPublicKeyFile?: string;
  credentials?: { username: string; password: string };
  tls?: { caPath?: string; certPath?: string; keyPath?: string };
  /** The satellite link; none when absent. */
  satellite?: SatelliteSyncOptions;
  /** Order of preference of the configured links (default IP first). */
  order?: RegionalLinkKind[];
  /** Resend an unacked item after this long (default 60 s). */
  ackTimeoutMs?: number;
  /** Back-off after a transient rejection (default 5 s doubling to 15 min). */
  retry?: { firstMs?: number; maxMs?: number };
}

/** Reads the regional node's public key that every MQTT ack must verify against. */
export async function readRegionalPublicKey(file: string | undefined): Promise<Uint8Array> {
  if (file === undefined) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      "regional.node_key is not set: without the regional node's public key no ack can be trusted",
      {
        hint: 'copy the regional node\'s keys/regional-node.pub next to maverick.toml and set [regional] node_key = "regional-node.pub" (or maverick init --regional-node-key FILE)',
      },
    );
  }
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new MaverickError(ErrorCode.ConfigInvalid, `regional.node_key ${file} cannot be read`, {
      hint: "check the path; it is the regional node's keys/regional-node.pub",
      cause: err,
    });
  }
  return publicKeyFromPem(pem);
}

export interface RegionalSync {
  readonly outbox: Outbox;
  readonly engine: SyncEngine;
  /** The satellite modem, when the satellite link is configured. */
  readonly satellite?: SatelliteModemSlot;
  stop(): Promise<void>;
}

export const DEFAULT_SATELLITE_DAILY_BYTES = 4000;

export async function startRegionalSync(
  db: FarmDatabase,
  gatewayId: string,
  options: RegionalSyncOptions,
  logger: Logger,
): Promise<RegionalSync> {
  const regionalPublicKey = options.regionalUrl
    ? await readRegionalPublicKey(options.regionalPublicKeyFile)
    : undefined;
  const store = new RxdbOutboxStore(db);
  const outbox = await Outbox.open({ store, logger, ...(options.retry ? { retry: options.retry } : {}) });
  const lanes = new Map<RegionalLinkKind, { link: SyncLink; budget?: LinkBudgetOptions }>();
  const closers: (() => Promise<void> | void)[] = [];
  let ipLink: SyncLink | undefined;
  if (options.regionalUrl && regionalPublicKey) {
    // Loaded only when an IP link is configured: a gateway without one never needs the mqtt.js client.
    const { createMqttLink } = await import('./link/mqtt-link.js');
    const link = createMqttLink({
      url: options.regionalUrl,
      gatewayId,
      regionalPublicKey,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      logger,
    });
    closers.push(() => link.close());
    lanes.set('mqtt', { link });
    ipLink = link;
  }
  let slot: SatelliteModemSlot | undefined;
  if (options.satellite) {
    const sat = options.satellite;
    const modem = new SatelliteModemSlot({
      path: sat.path,
      ...(sat.baudRate ? { baudRate: sat.baudRate } : {}),
      ...(sat.open ? { open: sat.open } : {}),
      logger,
    });
    slot = modem;
    const link = createMessageLink({ transport: modem, store, name: 'satellite', logger });
    // The first check waits for MQTT's first connect (or startDelayMs), so a restart with a full outbox
    // sends it over IP instead of spending credits in the moment before MQTT is up.
    let started = false;
    const startChecks = () => {
      if (started) return;
      started = true;
      clearTimeout(delay);
      offIp?.();
      link.start(sat.checkEveryMs ?? 60_000);
    };
    const delay = setTimeout(startChecks, ipLink ? (sat.startDelayMs ?? 5_000) : 0);
    delay.unref();
    const offIp = ipLink?.onState((up) => {
      if (up) startChecks();
    });
    closers.push(async () => {
      clearTimeout(delay);
      offIp?.();
      await link.close();
      modem.close();
    });
    lanes.set('satellite', {
      link,
      budget: {
        dailyBytes: sat.dailyBytes ?? DEFAULT_SATELLITE_DAILY_BYTES,
        ...(sat.repeatShare === undefined ? {} : { repeatShare: sat.repeatShare }),
      },
    });
  }
  const order = [...(options.order ?? []), 'mqtt', 'satellite'] as RegionalLinkKind[];
  const links = [...new Set(order)].flatMap((kind) => {
    const lane = lanes.get(kind);
    return lane ? [lane] : [];
  });
  const engine = new SyncEngine({
    outbox,
    links,
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    logger,
  });
  engine.start();
  return {
    outbox,
    engine,
    ...(slot ? { satellite: slot } : {}),
    async stop() {
      await engine.stop();
      for (const close of closers.reverse()) await close();
    },
  };
}
