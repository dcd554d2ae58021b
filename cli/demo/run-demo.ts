/**
 * `maverick demo`: the field in a box, end to end, over real sockets, a real
 * pty and real processes:
 *
 *   farm devices → forwarder / serial emulators → `maverick run` (child process)
 *     → sealed bundles → emulated cellular link (with an outage) → regional node
 *                      ↘ Iridium SBD driver → pty → SBD modem emulator ↗ (satellite, with a daily budget)
 *
 * Simulated time runs fast; the gateway seals at each simulated hour. The demo
 * passes only if every uplink the farm sent is stored on the gateway and
 * verified at the regional node. Without socat there is no pty: UDP radio path
 * and cellular link only, and the summary says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGatewayDatabase } from '../../gateway/store-access.js';
import { countUplinks } from '../../kernel/db/uplink-queries.js';
import { loadGatewayKey } from '../../kernel/keys/gateway-key.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type { RegionId } from '../../proto/regions/index.js';
import { commitmentIntake, startRegionalService } from '../../regional/serve.js';
import { TcpLinkProxy } from '../../simulator/link-emulator.js';
import type { SbdEmulatorCounters } from '../../simulator/sbd-modem.js';
import { type DemoEvidence, demoEvidence, evidenceFailure } from './evidence.js';
import { farmDevices, openSerialLine, startField } from './field.js';
import { DEMO_EVIDENCE_PLOT, DEMO_GATEWAY_ID, setUpGateway, startGatewayProcess } from './gateway-process.js';
import { DEMO_SATELLITE_DAILY_BYTES, startSatelliteSide } from './satellite.js';
import { type DemoSummary, demoProblems, progressLine } from './summary.js';

export interface DemoOptions {
  devices: number;
  hours: number;
  /** Simulated hours [start, end) during which the cellular link is down. */
  outage?: { startHour: number; endHour: number };
  seed: number;
  /** Real milliseconds per simulated hour. */
  realMsPerHour: number;
  /** Use this broker for the regional node instead of an embedded one. */
  brokerUrl?: string;
  /** The gateway's satellite byte budget per day (when socat gives the modem a pty). */
  satelliteDailyBytes?: number;
  keep: boolean;
  /** The radio region plan of the farm and the gateway (default EU868). */
  region?: RegionId;
  onProgress?: (line: string) => void;
  logger?: Logger;
}

const HOUR = 3_600_000;

/** Satellite bytes paid for: mobile-originated and mobile-terminated. */
function satelliteBytes(c: SbdEmulatorCounters): number {
  return c.moBytes + c.mtBytes;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const region = options.region ?? 'EU868';
  const logger = options.logger ?? silentLogger;
  const root = mkdtempSync(join(tmpdir(), 'maverick-demo-'));
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const serial = await openSerialLine('serial');
    if (serial) stops.push(() => serial.pair.close());
    const specs = farmDevices(options.seed, options.devices, serial !== undefined);

    // The regional node (its own store and broker), trusting only this gateway's key.
    const regional = await startRegionalService({
      dataDir: join(root, 'regional'),
      ...(options.brokerUrl
        ? { brokerUrl: options.brokerUrl }
        : { embedded: { host: '127.0.0.1', port: 0 } }),
      logger,
    });
    stops.push(() => regional.close());
    // The satellite link: the modem emulator on a pty, delivering to the regional node's message intake.
    const satellite = await startSatelliteSide({
      node: regional.regional.node,
      reassembler: regional.transport.reassembler,
      onOther: commitmentIntake(regional.regional, logger),
      seed: options.seed,
    });
    if (satellite) stops.push(() => satellite.close());
    const satelliteDailyBytes = options.satelliteDailyBytes ?? DEMO_SATELLITE_DAILY_BYTES;
    const setup = await setUpGateway(
      root,
      specs,
      regional.key.publicKeyFile,
      satellite ? { path: satellite.hostPath, dailyBytes: satelliteDailyBytes } : undefined,
      region,
    );
    const key = await loadGatewayKey(setup.dataDir);
    await regional.regional.registry.add(DEMO_GATEWAY_ID, key.publicKey, { label: 'demo farm' });
    const brokerUrl = new URL(regional.transport.brokerUrl);

    // The cellular link: a TCP proxy the demo cuts during the outage.
    const cellular = await TcpLinkProxy.start({
      target: { host: brokerUrl.hostname, port: Number(brokerUrl.port) },
    });
    stops.push(async () => cellular.close());

    const gateway = await startGatewayProcess(setup, cellular.url, serial?.pair.hostPath);
    stops.push(() => gateway.stop());

    const startMs = Date.UTC(2026, 5, 1);
    const field = await startField(
      {
        seed: options.seed,
        devices: options.devices,
        hours: options.hours,
        realMsPerHour: options.realMsPerHour,
        udpPort: setup.udpPort,
        gatewayId: DEMO_GATEWAY_ID,
        region,
        ...(serial ? { serial } : {}),
        startMs,
      },
      specs,
    );
    stops.push(() => field.stop());

    // Seal at every simulated hour; cut the cellular link during the outage.
    let sealed = 0;
    let sealing: Promise<unknown> = Promise.resolve();
    const seal = () => {
      sealing = sealing
        .then(() => gateway.seal())
        .then((bundles) => {
          sealed += bundles.length;
        })
        .catch((err: unknown) => logger.warn({ err: String(err) }, 'demo: seal failed'));
      return sealing;
    };
    for (let h = 1; h <= options.hours; h++) field.clock.at(startMs + h * HOUR, () => void seal());
    if (options.outage) {
      field.clock.at(startMs + options.outage.startHour * HOUR, () => cellular.cut());
      field.clock.at(startMs + options.outage.endHour * HOUR, () => cellular.restore());
    }

    const progress = async (phase: string) => {
      const stats = field.farm.snapshot();
      const status = await gateway.status().catch(() => undefined);
      const verified = (await regional.regional.store.listBundles(DEMO_GATEWAY_ID)).length;
      options.onProgress?.(
        progressLine({
          phase,
          simulatedHours: field.clock.elapsedMs() / HOUR,
          joined: stats.joinedDevices,
          devices: options.devices,
          uplinksSent: stats.uplinksSent,
          uplinksReceived: status?.uplinks.received ?? 0,
          bundlesSealed: sealed,
          bundlesVerified: verified,
          linkUp: cellular.isUp,
          linkBytes: cellular.bytesForwarded,
          ...(satellite ? { satelliteBytes: satelliteBytes(satellite.counters()) } : {}),
        }),
      );
    };
    const ticker = setInterval(() => void progress('farm day'), 500);
    stops.push(async () => clearInterval(ticker));

    field.farm.start();
    const farmDeadline = options.hours * options.realMsPerHour * 3 + 60_000;
    await Promise.race([
      field.farm.whenFinished(),
      new Promise((_, reject) =>
        setTimeout(
          () =>
            reject(
              new MaverickError(ErrorCode.DemoFailed, `the farm did not finish within ${farmDeadline} ms`, {
                hint: 'the machine may be too busy; try fewer --devices or --hours',
              }),
            ),
          farmDeadline,
        ),
      ),
    ]);
    field.farm.stop();
    cellular.restore();
    // Let the last uplinks reach the store, then seal what is left and wait for every ack.
    await new Promise((r) => setTimeout(r, 500));
    await seal();
    await seal();
    // The day is over: the gateway signs its daily commitment (≤ 340 bytes, ahead of bundles in the outbox).
    const committed = await gateway.commit().catch((err: unknown) => {
      logger.warn({ err: String(err) }, 'demo: daily commitment failed');
      return [];
    });
    // And the period statement over the days sealed (the day is over): it travels like the commitment.
    await gateway.statement().catch((err: unknown) => {
      logger.warn({ err: String(err) }, 'demo: period statement failed');
    });
    const syncDeadline = Date.now() + 90_000;
    for (;;) {
      const status = await gateway.status().catch(() => undefined);
      if (status && status.outbox.depth === 0) break;
      if (Date.now() > syncDeadline) break;
      await progress('syncing');
      await new Promise((r) => setTimeout(r, 300));
    }
    await progress('done');
    clearInterval(ticker);

    const stats = field.farm.snapshot();
    const sent = new Set(field.farm.sentUplinks.map((u) => `${u.devEui}|${u.fCnt}`));
    await gateway.stop();
    const db = await openGatewayDatabase(setup.dataDir);
    const uplinksStored = await countUplinks(db);
    const bundlesSealed = await db.bundles.count({ selector: { kind: 'bundle' } }).exec();
    const evidence = await demoEvidence({
      db,
      regional: regional.regional,
      regionalKey: regional.key,
      plotId: DEMO_EVIDENCE_PLOT,
    }).catch((err: unknown): DemoEvidence => evidenceFailure(DEMO_EVIDENCE_PLOT, err));
    await db.close();
    const bundles = await regional.regional.store.listBundles(DEMO_GATEWAY_ID);
    const alerts = await regional.regional.store.listAlerts(DEMO_GATEWAY_ID);
    const sat = satellite?.counters();
    const facts: Omit<DemoSummary, 'ok' | 'problems'> = {
      region,
      devices: options.devices,
      simulatedHours: options.hours,
      serialPath: serial ? 'socat pty' : 'none (socat not installed: UDP path only)',
      satellitePath: satellite
        ? `socat pty, Iridium SBD emulator, ${satelliteDailyBytes} B/day budget`
        : 'none (socat not installed: cellular only)',
      joinedDevices: stats.joinedDevices,
      uplinksSent: sent.size,
      uplinksStored,
      uplinksVerified: bundles.reduce((n, b) => n + b.uplinkCount, 0),
      bundlesSealed,
      bundlesVerified: bundles.length,
      commitments: await Promise.all(
        committed.map(async (c) => {
          const held = await regional.regional.store.getCommitment(DEMO_GATEWAY_ID, c.day);
          return {
            day: new Date(c.day * 86_400_000).toISOString().slice(0, 10),
            bytes: c.bytes,
            uplinks: c.uplinks,
            verified: held?.uplinks === c.uplinks,
          };
        }),
      ),
      duplicatesRejected: regional.regional.node.counters().duplicate,
      chainAlerts: alerts.length,
      confirmedSent: stats.confirmedSent,
      acksReceived: stats.acksReceived,
      wrongTiming: stats.wrongTiming,
      linkBytes: { cellular: cellular.bytesForwarded, ...(sat ? { satellite: satelliteBytes(sat) } : {}) },
      ...(sat
        ? {
            satellite: {
              moMessages: sat.moDelivered + sat.moDropped,
              mtMessages: sat.mtDelivered,
              moBytes: sat.moBytes,
              mtBytes: sat.mtBytes,
              lostMessages: sat.moDropped,
              failedSessions: sat.failedSessions,
              sessions: sat.sessions,
              credits: sat.credits,
              bundlesDelivered: bundles.filter((b) => b.source.startsWith('sbd:')).length,
            },
          }
        : {}),
      linkCuts: cellular.cuts,
      evidence,
      durationMs: Date.now() - started,
      dataDir: options.keep ? root : undefined,
    };
    const problems = demoProblems(facts);
    const summary: DemoSummary = { ok: problems.length === 0, problems, ...facts };
    return summary;
  } finally {
    await stopAll();
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }
}
