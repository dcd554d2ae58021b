/**
 * Issue 16, points 4 and 5: regional acks cannot be forged, and a transient
 * rejection does not strand a bundle.
 *   - A holder of the regional broker's login publishes "accepted" for a
 *     bundle the regional node never saw: the gateway must keep it and
 *     deliver it once the node is there.
 *   - The same attacker publishes "rejected": the gateway must not park it.
 *   - A gateway whose key is registered (by the CLI, another process) on a
 *     running regional node has every bundle accepted, none lost.
 * Each attack is sent in the old unsigned JSON form and as a COSE_Sign1
 * signed by a key that is not the regional node's.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegionalSync } from '../../gateway/regional-sync.js';
import { startGatewayRuntime } from '../../gateway/runtime.js';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import { Outbox } from '../../kernel/outbox/outbox.js';
import { keyIdOf, publicKeyOf, randomSecretKey, toHex } from '../../proto/bundle/ed25519.js';
import { publicKeyToPem } from '../../proto/bundle/pem.js';
import { signAck } from '../../proto/link/signed-ack.js';
import { ackTopic, UP_FILTER } from '../../proto/link/topics.js';
import { startRegionalService } from '../../regional/serve.js';
import { EmbeddedRegionalBroker } from '../../regional/transport/embedded-broker.js';
import { startRegionalTransport } from '../../regional/transport/mqtt-intake.js';
import { runCli } from '../helpers/cli.js';
import { captureLogger, type LogLine } from '../helpers/e2e-field.js';
import { testAckSigner, writeTestRegionalPublicKey } from '../helpers/regional-ack-key.js';
import {
  chainReport,
  eventually,
  makeChain,
  openMemoryFarm,
  openRegional,
  testGateway,
} from '../link-harness.js';

const credentials = { username: 'regional-link', password: 'shared-by-every-gateway' };
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function farm(): Promise<FarmDatabase> {
  const db = await openMemoryFarm();
  cleanups.push(() => db.close());
  return db;
}

/** Someone with the broker login: answers every item it sees with a forged ack, in both forms. */
async function forger(brokerUrl: string, status: 'accepted' | 'rejected'): Promise<{ forged: () => number }> {
  const client: MqttClient = await mqtt.connectAsync(brokerUrl, { ...credentials, clientId: 'mallory' });
  cleanups.push(() => client.endAsync(true));
  const secretKey = randomSecretKey();
  const mallory = { kid: keyIdOf(publicKeyOf(secretKey)), secretKey };
  let forged = 0;
  client.on('message', (topic, payload) => {
    const gatewayId = topic.split('/')[3]!;
    const digest = createHash('sha256').update(payload).digest('hex');
    const verdict =
      status === 'rejected'
        ? { reason: 'RegionalEquivocation', transient: false }
        : ({} as Record<string, never>);
    const json = Buffer.from(JSON.stringify({ v: 1, digest, status, ...verdict }));
    const cose = signAck({ digest, status, ...verdict }, mallory, { issuer: 'regional', gatewayId, iat: 1 });
    forged += 2;
    void client.publishAsync(ackTopic(gatewayId), json, { qos: 1 });
    void client.publishAsync(ackTopic(gatewayId), Buffer.from(cose), { qos: 1 });
  });
  await client.subscribeAsync(UP_FILTER, { qos: 1 });
  return { forged: () => forged };
}

describe('forged regional acks', () => {
  for (const status of ['accepted', 'rejected'] as const) {
    it(`a forged "${status}" neither retires nor parks a bundle; the real node's ack does`, async () => {
      const gw = testGateway('b827ebfffe00f001');
      const broker = await EmbeddedRegionalBroker.start({ port: 0, credentials });
      cleanups.push(() => broker.close());
      const attacker = await forger(broker.url, status);
      const logs: LogLine[] = [];
      const sync = await startRegionalSync(
        await farm(),
        gw.id,
        {
          regionalUrl: broker.url,
          regionalPublicKeyFile: writeTestRegionalPublicKey(tempDir('maverick-sec-gw-')),
          credentials,
          ackTimeoutMs: 300,
        },
        captureLogger(logs),
      );
      cleanups.push(() => sync.stop());
      const [bundle] = makeChain(gw, 1);
      await sync.outbox.enqueue(Outbox.item('bundle', 1, bundle!.cose));
      const digest = toHex(bundle!.digest);

      // Only the attacker is listening: it answers at least one send in both forms. Wait until the
      // gateway has dealt with both (refused them, or, as before signed acks, retired or parked the bundle).
      await eventually(() => attacker.forged() >= 2, 10_000, 'the forged acks');
      await eventually(
        () =>
          logs.filter((l) => l.msg === 'refused an ack that does not verify').length >= 2 ||
          !sync.outbox.get(digest) ||
          sync.outbox.isParked(digest),
        10_000,
        'the gateway to handle both forged acks',
      );
      expect(sync.outbox.get(digest), 'a forged "accepted" retired the bundle').toBeDefined();
      expect(sync.outbox.isParked(digest), 'a forged "rejected" parked the bundle').toBe(false);

      // The real regional node comes: the bundle is resent (not parked), stored, and retired on its signed ack.
      const regional = await openRegional([gw]);
      cleanups.push(() => regional.close());
      const transport = await startRegionalTransport({
        node: regional.node,
        acks: testAckSigner,
        brokerUrl: broker.url,
        credentials,
      });
      cleanups.push(() => transport.close());
      await eventually(() => sync.outbox.size === 0, 20_000, 'the bundle to be retired by the real ack');
      expect((await chainReport(regional.store, gw.id)).seqs).toEqual([1]);
    }, 60_000);
  }
});

describe('a gateway registered on a running regional node', () => {
  it('has every bundle accepted, none lost', async () => {
    const gw = testGateway('b827ebfffe00f002');
    const startedAt = Date.now();
    const regionalDir = tempDir('maverick-sec-regional-');
    const serviceLogs: LogLine[] = [];
    const service = await startRegionalService({
      dataDir: regionalDir,
      embedded: { host: '127.0.0.1', port: 0 },
      credentials,
      // Every level: printed if the test fails, so a failure on a loaded CI machine can be read.
      logger: captureLogger(serviceLogs, { everyLevel: true }),
    });
    cleanups.push(() => service.close());
    const gatewayDir = tempDir('maverick-sec-gw-');
    const logs: LogLine[] = [];
    const sync = await startRegionalSync(
      await farm(),
      gw.id,
      {
        regionalUrl: service.transport.brokerUrl,
        regionalPublicKeyFile: service.key.publicKeyFile,
        credentials,
        retry: { firstMs: 200, maxMs: 1_000 },
      },
      captureLogger(logs, { everyLevel: true }),
    );
    cleanups.push(() => sync.stop());
    const deferred: string[] = [];
    sync.outbox.on('deferred', ({ reason }) => deferred.push(reason));
    const bundles = makeChain(gw, 3);
    for (const [i, b] of bundles.entries()) await sync.outbox.enqueue(Outbox.item('bundle', i + 1, b.cose));

    // Not registered yet: the node answers with a signed, transient rejection and the gateway backs off.
    const first = Outbox.item('bundle', 1, bundles[0]!.cose).digest;
    await eventually(
      () => deferred.length >= 1 || sync.outbox.isParked(first),
      10_000,
      'the first rejection',
    );
    expect(sync.outbox.isParked(first), 'the rejected bundle was parked for good').toBe(false);
    expect(deferred[0]).toBe('BundleUnknownKey');
    expect(sync.outbox.size).toBe(3);
    expect(sync.outbox.parkedItems()).toEqual([]);

    // The operator registers the gateway with the CLI, in another process, while the node runs.
    const pem = join(gatewayDir, 'gateway.pub');
    writeFileSync(pem, publicKeyToPem(gw.publicKey));
    const added = await runCli(
      ['regional', 'gateway', 'add', '--data-dir', regionalDir, '--id', gw.id, '--pub', pem],
      {
        timeoutMs: 60_000,
      },
    );
    expect(added.code, added.stderr).toBe(0);
    const registeredAt = Date.now();

    await eventually(() => sync.outbox.size === 0, 60_000, 'every bundle to be accepted').catch(
      (err: Error) => {
        // What both sides said, so a failure on a loaded CI machine can be read, not guessed at.
        const tail = (lines: LogLine[]) =>
          lines.slice(-60).map((l) => `+${l.at - startedAt} ${l.level} ${l.msg} ${JSON.stringify(l.fields)}`);
        throw new Error(
          [
            err.message,
            `registered at +${registeredAt - startedAt} ms; outbox: ${sync.outbox.size} pending, deferred ${JSON.stringify(sync.outbox.deferredItems().map((d) => ({ seq: d.item.seq, ...d.deferral })))}`,
            'gateway log:',
            ...tail(logs),
            'regional log:',
            ...tail(serviceLogs),
          ].join('\n'),
        );
      },
    );
    expect(await chainReport(service.regional.store, gw.id)).toEqual({ seqs: [1, 2, 3], continuous: true });
    expect(sync.outbox.parkedItems()).toEqual([]);
  }, 180_000);
});

describe('a permanent rejection', () => {
  it('parks the bundle and raises the alarm on the local MQTT broker', async () => {
    const gw = testGateway('b827ebfffe00f003');
    const broker = await EmbeddedRegionalBroker.start({ port: 0, credentials });
    cleanups.push(() => broker.close());
    const regional = await openRegional([gw]);
    cleanups.push(() => regional.close());
    const transport = await startRegionalTransport({
      node: regional.node,
      acks: testAckSigner,
      brokerUrl: broker.url,
      credentials,
    });
    cleanups.push(() => transport.close());
    const dataDir = tempDir('maverick-sec-alarm-');
    const local = { username: 'maverick', password: 'alarm-test-password' };
    const runtime = await startGatewayRuntime({
      dataDir,
      gatewayId: gw.id,
      regionId: 'EU868',
      radios: [],
      mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, ...local },
      synchronous: 'NORMAL',
      sync: {
        regionalUrl: broker.url,
        regionalPublicKeyFile: writeTestRegionalPublicKey(dataDir),
        credentials,
      },
      logger: captureLogger([]),
    });
    cleanups.push(() => runtime.stop());
    const farmApp = await mqtt.connectAsync(`mqtt://127.0.0.1:${runtime.broker!.port}`, local);
    cleanups.push(() => farmApp.endAsync(true));
    const alarms: Record<string, unknown>[] = [];
    farmApp.on('message', (_topic, payload) => alarms.push(JSON.parse(payload.toString())));
    await farmApp.subscribeAsync(`gateway/${gw.id}/state/alarm`, { qos: 1 });

    // Bundle 2 under the gateway's registered key but with a broken signature: refused, for good
    // (a chain conflict is no rejection any more: the node keeps both sides as disputed evidence).
    const [first, second] = makeChain(gw, 2);
    await runtime.outbox!.enqueue(Outbox.item('bundle', 1, first!.cose));
    await eventually(() => runtime.outbox!.size === 0, 20_000, 'bundle 1 to be accepted');
    const forged = Uint8Array.from(second!.cose);
    forged[forged.length - 1]! ^= 0x01;
    const strayItem = Outbox.item('bundle', 2, forged);
    await runtime.outbox!.enqueue(strayItem);
    await eventually(() => alarms.length > 0, 20_000, 'the alarm');
    expect(alarms[0]).toMatchObject({
      alarm: 'outbox-item-rejected',
      kind: 'bundle',
      seq: 2,
      digest: strayItem.digest,
      reason: 'BundleBadSignature',
    });
    expect(runtime.outbox!.isParked(strayItem.digest)).toBe(true);
    expect(runtime.outbox!.size).toBe(1);
  }, 60_000);
});
