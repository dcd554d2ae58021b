/**
 * `maverick regional evidence` and `maverick evidence verify` as an operator and a verifier run
 * them: a regional node that ingested three days of a gateway's format-3 bundles builds a plot's
 * pack from the gateway's period statement and a verifier's nonce; the verifier checks it with
 * the node's published key (exit 0), and a tampered pack fails with the check named (exit 1).
 * The statement reaches the node as the gateway sends it (its outbox, over MQTT to `regional
 * serve`), and the pack cites it without --statement; given as a file it is the same pack's input.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttLink } from '../gateway/link/mqtt-link.js';
import { outboxedPeriodStatements } from '../gateway/sealing.js';
import { bundleId } from '../kernel/db/schemas.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import { bundleDigest, sealBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { publicKeyToPem } from '../proto/bundle/pem.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { decodePack, encodePack } from '../proto/evidence/pack.js';
import { silentLogger } from '../proto/log.js';
import { dayLeavesOf, leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import { buildPeriod, signPeriodStatement } from '../proto/proof/period.js';
import { loadRegionalKey, startRegionalService } from '../regional/serve.js';
import { DAY_MS, DAY_START_MS, plotReferences, simulatedDay } from './fixtures/bundle-simulated-day.js';
import { gatewayKey } from './fixtures/evidence-farm.js';
import { runCli } from './helpers/cli.js';
import { eventually, openMemoryFarm } from './link-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'maverick-evidence-cli-'));
const dataDir = join(dir, 'regional');
const GATEWAY = 'gw-evidence-cli';
const firstDay = DAY_START_MS / DAY_MS;
const day = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);
const pack = join(dir, 'north.pack');
/** The statement the gateway signed and sent over MQTT. */
let syncedStatement: Uint8Array;
/** A loaded machine (CI, or six helpers on two cores) can take this long to start and run one command. */
const SLOW = { timeoutMs: 150_000 };

beforeAll(async () => {
  const claims = { iss: GATEWAY, sub: 'farm', iat: Math.floor(DAY_START_MS / 1000) + 4 * 86_400 };
  let prevHash: Uint8Array = GENESIS_PREV_HASH;
  const files: string[] = [];
  const bundles = [];
  const farm = await openMemoryFarm();
  for (let d = 0; d < 3; d++) {
    const uplinks = simulatedDay({ seed: 10 + d }).map((u) => ({
      ...u,
      receivedAt: u.receivedAt + d * DAY_MS,
    }));
    const times = uplinks.map((u) => u.receivedAt);
    const sealed = sealBundle(
      {
        seq: d + 1,
        prevHash,
        // Format 3: the time range is exactly the first and the last reception.
        timeRange: { start: Math.min(...times), end: Math.max(...times) },
        plots: plotReferences(d === 0),
        uplinks,
        compress: true,
      },
      gatewayKey,
      claims,
    );
    prevHash = bundleDigest(sealed.cose);
    files.push(join(dir, `bundle-${d + 1}.cose`));
    writeFileSync(files[d] as string, sealed.cose);
    bundles.push(leavesOfBundle(sealed.cose, () => gatewayKey.publicKey));
    // The gateway's own copy, already acknowledged: what its period statement is signed over.
    await farm.bundles.insert({
      id: bundleId(d + 1),
      seq: d + 1,
      cose: Buffer.from(sealed.cose).toString('base64'),
      digest: toHex(prevHash),
      kind: 'bundle',
      fromMs: Math.min(...times),
      toMs: Math.max(...times),
      uplinkCount: uplinks.length,
      createdAt: DAY_START_MS,
      syncState: 'acked',
    });
  }
  // What the gateway signs for the closed range (kernel/db/period-statements.ts does the same from its store).
  const { statement } = buildPeriod(
    firstDay,
    firstDay + 2,
    dayLeavesOf(bundles.filter((b) => b !== undefined)),
  );
  writeFileSync(join(dir, 'period.cose'), signPeriodStatement(statement, gatewayKey, claims));
  writeFileSync(join(dir, 'gateway.pem'), publicKeyToPem(gatewayKey.publicKey));
  const add = await runCli(
    ['regional', 'gateway', 'add', '--data-dir', dataDir, '--id', GATEWAY, '--pub', join(dir, 'gateway.pem')],
    SLOW,
  );
  expect(add.code).toBe(0);
  const ingest = await runCli(['regional', 'ingest', '--data-dir', dataDir, ...files], SLOW);
  expect(ingest.stdout).not.toMatch(/rejected/);
  await sendStatementOverMqtt(farm);
  await farm.close();
}, 400_000);

/**
 * The gateway signs the closed range (which puts the statement in its outbox) and syncs over
 * MQTT to `regional serve` on the node's data directory, until the node acks the statement.
 */
async function sendStatementOverMqtt(farm: Awaited<ReturnType<typeof openMemoryFarm>>): Promise<void> {
  const credentials = { username: 'maverick-evidence', password: 'evidence-s3cret' };
  const service = await startRegionalService({
    dataDir,
    embedded: { port: 0 },
    credentials,
    logger: silentLogger,
  });
  const outbox = await Outbox.open({ store: new RxdbOutboxStore(farm) });
  const link = new MqttLink({
    url: service.transport.brokerUrl,
    gatewayId: GATEWAY,
    regionalPublicKey: (await loadRegionalKey(dataDir)).publicKey,
    credentials,
    reconnectPeriodMs: 100,
  }).start();
  const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 5000 });
  try {
    const periods = outboxedPeriodStatements(farm, gatewayKey, GATEWAY);
    const signed = await periods.sign(firstDay, firstDay + 2, (firstDay + 3) * DAY_MS);
    syncedStatement = signed.cose;
    await outbox.refresh();
    expect(outbox.size).toBe(1);
    engine.start();
    await eventually(() => outbox.size === 0, 60_000, 'the statement acked');
    const held = await service.regional.store.listPeriodStatements(GATEWAY);
    expect(held.map((h) => [h.fromDay, h.toDay, Buffer.from(h.cose).equals(signed.cose)])).toEqual([
      [firstDay, firstDay + 2, true],
    ]);
  } finally {
    await engine.stop();
    await link.close();
    await service.close();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `maverick regional evidence` for plot-north from the first day to `toDay`, with the statements given. */
const regionalEvidence = (toDay: number, more: string[]) =>
  runCli(
    [
      ...['regional', 'evidence', '--data-dir', dataDir, '--plot', 'plot-north', '--from', day(firstDay)],
      ...['--to', day(toDay), ...more],
    ],
    SLOW,
  );
const withStatementFile = ['--statement', join(dir, 'period.cose')];

describe('evidence on the command line', () => {
  it('regional evidence builds a pack from the statement the gateway sent, that verifies, and its report', {
    timeout: 400_000,
  }, async () => {
    const built = await regionalEvidence(firstDay + 2, [
      '--nonce',
      '00112233445566778899aabbccddeeff',
      '--out',
      pack,
    ]);
    expect(built.stderr).toBe('');
    expect(built.stdout).toMatch(
      /evidence pack .*north\.pack: \d+ bytes \(\d+ satellite messages\), plot plot-north, \d+ observations of \d+ committed records, 20 disclosed; verifies/,
    );
    expect(built.code).toBe(0);
    expect(decodePack(new Uint8Array(readFileSync(pack))).statements).toEqual([syncedStatement]);
    expect(readFileSync(`${pack}.md`, 'utf8')).toMatch(/Verdict: VALID/);
    const v = await runCli(
      ['evidence', 'verify', pack, '--regional-key', join(dataDir, 'keys', 'regional-node.pub'), '--json'],
      SLOW,
    );
    expect(JSON.parse(v.stdout)).toMatchObject({
      valid: true,
      regionalPinned: true,
      plotId: 'plot-north',
      disclosedRecords: 20,
      failures: [],
    });
    expect(v.code).toBe(0);
  });

  it('evidence verify exits 1 on a tampered pack, naming the check', async () => {
    const p = decodePack(new Uint8Array(readFileSync(pack)));
    const tampered = join(dir, 'tampered.pack');
    writeFileSync(
      tampered,
      encodePack({ ...p, statements: p.statements, spotCheck: p.spotCheck && { ...p.spotCheck, k: 19 } }),
    );
    const v = await runCli(['evidence', 'verify', tampered], SLOW);
    expect(v.stdout).toMatch(/FAIL spot check answer: the nonce selects 19 records, the pack discloses 20/);
    expect(v.stdout).toMatch(/INVALID evidence pack/);
    expect(v.code).toBe(1);
  }, 200_000);

  it('--statement cites the given file instead of the held statements', async () => {
    const other = join(dir, 'override.pack');
    const built = await regionalEvidence(firstDay + 2, [...withStatementFile, '--out', other]);
    expect(built.stdout).toMatch(/; verifies$/m);
    expect(built.code).toBe(0);
    expect(decodePack(new Uint8Array(readFileSync(other))).statements).toEqual([
      new Uint8Array(readFileSync(join(dir, 'period.cose'))),
    ]);
  }, 200_000);

  it('regional evidence refuses a statement outside the requested days', async () => {
    const r = await regionalEvidence(firstDay + 1, [...withStatementFile, '--out', join(dir, 'x.pack')]);
    expect(r.stderr).toMatch(/outside the requested/);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'x.pack'))).toBe(false);
  }, 200_000);

  it('regional evidence without --statement says so when no held statement lies inside the days', async () => {
    const r = await regionalEvidence(firstDay + 1, ['--out', join(dir, 'y.pack')]);
    expect(r.stderr).toMatch(/holds no period statement inside/);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'y.pack'))).toBe(false);
  }, 200_000);

  it('evidence page writes the self-contained verifier', async () => {
    const r = await runCli(['evidence', 'page', '--out', join(dir, 'verifier.html')], SLOW);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'verifier.html'), 'utf8')).toMatch(/Evidence pack verifier/);
  }, 200_000);
});
