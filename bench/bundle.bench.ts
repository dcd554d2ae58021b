/**
 * Compliance bundles: bytes per uplink for a simulated farm day (10 devices,
 * every 15 min, 5 fields: 960 uplinks) sealed into one signed bundle, against
 * the same uplinks as ChirpStack v4 JSON `up` integration events; Ed25519
 * sign / verify rates, @noble/ed25519 against node:crypto (OpenSSL); and a
 * format 3 Merkle root over the day's records against node:crypto per hash.
 */
import {
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  randomUUID,
} from 'node:crypto';
import { bundleDigest, signBundle, verifyBundle } from '../proto/bundle/bundle.js';
import { COMMITMENT_MAX_BYTES, commitmentDigest, signCommitment } from '../proto/bundle/commitment.js';
import {
  ed25519Sign,
  ed25519VerifyNoble,
  keyIdOf,
  publicKeyOf,
  randomSecretKey,
} from '../proto/bundle/ed25519.js';
import { encodeBundlePayload } from '../proto/bundle/payload.js';
import { publicKeyToPem, secretKeyToPem } from '../proto/bundle/pem.js';
import { GENESIS_PREV_HASH, type UplinkRecord } from '../proto/bundle/types.js';
import { bundleMerkleRoot, encodeLeaf, leafSalt } from '../proto/proof/leaf.js';
import { bundleMerkleRootLanes } from '../proto/proof/leaf-lanes.js';
import { merkleRoot } from '../proto/proof/merkle.js';
import {
  DAY_MS,
  DAY_START_MS,
  plotReferences,
  prng,
  simulatedDay,
} from '../test/fixtures/bundle-simulated-day.js';
import { type BenchFigure, opsPerSecond } from './figure.js';

/** A realistic ChirpStack v4 `up` event for one uplink (api/proto/integration/integration.proto UplinkEvent, JSON form). */
function chirpstackUpEvent(u: UplinkRecord, rand: () => number): string {
  const devEui = Buffer.from(u.devEui).toString('hex');
  // Decimal values as a codec prints them (no binary-float noise, which would inflate the baseline).
  const object = Object.fromEntries(
    u.readings.map((r) => [r.field, Number((r.value * 10 ** r.scale).toFixed(Math.max(0, -r.scale)))]),
  );
  const data = Buffer.from(Array.from({ length: 11 }, () => Math.floor(rand() * 256))).toString('base64');
  const time = new Date(u.receivedAt).toISOString().replace('Z', '+00:00');
  return JSON.stringify({
    deduplicationId: randomUUID(),
    time,
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'Fazenda Boa Vista',
      applicationId: 'c5d1b4a8-60a6-4e0a-9a3e-4b5f0c7e2f11',
      applicationName: 'soil-sensors',
      deviceProfileId: '9a4c3e2b-1f0d-4c8b-a7e6-5d4c3b2a1f0e',
      deviceProfileName: 'Dragino LSE01 EU868',
      deviceName: `soil-${devEui.slice(-2)}`,
      devEui,
      deviceClassEnabled: 'CLASS_A',
      tags: { plot: u.plotId ?? '' },
    },
    devAddr: `01ab${devEui.slice(-4)}`,
    adr: true,
    dr: 5,
    fCnt: u.fCnt,
    fPort: 2,
    confirmed: false,
    data,
    object,
    rxInfo: [
      {
        gatewayId: '0016c001ff10a235',
        uplinkId: Math.floor(rand() * 65535),
        gwTime: time,
        nsTime: time,
        rssi: -60 - Math.floor(rand() * 50),
        snr: Math.round((rand() * 20 - 7) * 10) / 10,
        channel: Math.floor(rand() * 8),
        location: { latitude: 6.123456, longitude: -1.234567, altitude: 212 },
        context: Buffer.from(Array.from({ length: 4 }, () => Math.floor(rand() * 256))).toString('base64'),
        metadata: { region_config_id: 'eu868', region_common_name: 'EU868' },
        crcStatus: 'CRC_OK',
      },
    ],
    txInfo: {
      frequency: 867_100_000 + Math.floor(rand() * 8) * 200_000,
      modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } },
    },
  });
}

export async function run(): Promise<BenchFigure[]> {
  const uplinks = simulatedDay({ lossRate: 0 });
  const secretKey = randomSecretKey();
  const publicKey = publicKeyOf(secretKey);
  const key = { kid: keyIdOf(publicKey), secretKey };
  const claims = { iss: 'gw-0016c001ff10a235', sub: 'farm:fazenda-boa-vista', iat: 1_763_683_260 };
  const content = {
    seq: 1,
    prevHash: GENESIS_PREV_HASH,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
    plots: plotReferences(true),
    uplinks,
  };
  const seal = (compress: boolean): Uint8Array =>
    signBundle(encodeBundlePayload({ ...content, compress }), key, claims);
  const sealed = seal(true);
  const plain = seal(false);
  const rand = prng(7);
  const chirpstackBytes = uplinks.reduce((n, u) => n + Buffer.byteLength(chirpstackUpEvent(u, rand)), 0);
  const perUplink = sealed.length / uplinks.length;
  const chirpPerUplink = chirpstackBytes / uplinks.length;

  // Ed25519 over the real Sig_structure-sized message (the day bundle).
  const message = sealed;
  const nodePrivate = createPrivateKey(secretKeyToPem(secretKey));
  const nodePublic = createPublicKey(publicKeyToPem(publicKey));
  const signature = ed25519Sign(message, secretKey);
  const nobleSign = opsPerSecond(() => void ed25519Sign(message, secretKey), 1500);
  const nodeSignRate = opsPerSecond(() => void nodeSign(null, message, nodePrivate), 1500);
  const nobleVerify = opsPerSecond(() => void ed25519VerifyNoble(signature, message, publicKey), 1500);
  const nodeVerifyRate = opsPerSecond(() => void nodeVerify(null, message, nodePublic, signature), 1500);
  const sealRate = opsPerSecond(() => void seal(true), 2000);
  const verifyRate = opsPerSecond(() => void verifyBundle(sealed, () => publicKey), 2000);
  // A format 3 bundle's Merkle root over the day's records, as the sealer and every verifier
  // compute it, against the same root with a node:crypto call per hash (leafSalt's HMAC object
  // per salt, crypto.hash per leaf and per node).
  const saltSeed = new Uint8Array(32).fill(3);
  const rootRate = opsPerSecond(() => void bundleMerkleRoot(uplinks, saltSeed), 1500);
  const lanesRootRate = opsPerSecond(() => void bundleMerkleRootLanes(uplinks, saltSeed), 1500);
  const nativeRootRate = opsPerSecond(
    () => void merkleRoot(uplinks.map((u, i) => encodeLeaf(u, leafSalt(saltSeed, i)))),
    1500,
  );

  const commitment = signCommitment(
    {
      day: Math.floor(DAY_START_MS / DAY_MS),
      seqFirst: 1,
      seqLast: 24,
      digest: commitmentDigest([bundleDigest(sealed)]),
      bundles: 1,
      uplinks: uplinks.length,
      timeRange: content.timeRange,
      timeSources: { gps: 920, ntp: 0, 'host-unsynced': 40 },
    },
    key,
    claims,
  );

  return [
    {
      name: `bundle: signed day bundle, ${uplinks.length} uplinks × 5 fields (deflate)`,
      value: perUplink,
      unit: 'bytes/uplink',
      baseline: { name: 'ChirpStack v4 JSON up events', value: chirpPerUplink },
      ratio: chirpPerUplink / perUplink,
      note: `${sealed.length} B bundle vs ${chirpstackBytes} B JSON; ratio = JSON/bundle (×smaller); target ≤ 8 B/uplink`,
    },
    {
      name: 'bundle: same day, telemetry not deflated',
      value: plain.length / uplinks.length,
      unit: 'bytes/uplink',
      note: `${plain.length} B`,
    },
    {
      name: 'bundle: daily commitment (signed COSE)',
      value: commitment.length,
      unit: 'bytes',
      note: `limit ${COMMITMENT_MAX_BYTES} B (one satellite message)`,
    },
    {
      name: 'ed25519 sign (@noble/ed25519), 1 day-bundle message',
      value: nobleSign,
      unit: 'signs/s',
      baseline: { name: 'node:crypto', value: nodeSignRate },
      ratio: nobleSign / nodeSignRate,
    },
    {
      name: 'ed25519 verify (@noble/ed25519, zip215:false), 1 day-bundle message',
      value: nobleVerify,
      unit: 'verifies/s',
      baseline: { name: 'node:crypto', value: nodeVerifyRate },
      ratio: nobleVerify / nodeVerifyRate,
    },
    {
      name: `bundle: Merkle root over a day's ${uplinks.length} salted records (format 3)`,
      value: rootRate * uplinks.length,
      unit: 'records/s',
      baseline: { name: 'node:crypto per hash', value: nativeRootRate * uplinks.length },
      ratio: rootRate / nativeRootRate,
      note: 'JavaScript SHA-256 with HMAC midstates, no allocation per hash (sha256-blocks.ts)',
    },
    {
      name: `bundle: Merkle root over a day's ${uplinks.length} salted records, WebAssembly SIMD lanes`,
      value: lanesRootRate * uplinks.length,
      unit: 'records/s',
      baseline: { name: 'JavaScript SHA-256 (sha256-blocks.ts)', value: rootRate * uplinks.length },
      ratio: lanesRootRate / rootRate,
      note: 'four messages a compression in i32x4 lanes (sha256-lanes.ts), what verifyBundle and the sealer use',
    },
    {
      name: 'bundle: seal a day (encode + deflate + sign)',
      value: sealRate,
      unit: 'bundles/s',
    },
    {
      name: 'bundle: verify + strictly decode a day (node:crypto prefilter + noble strict)',
      value: verifyRate,
      unit: 'bundles/s',
    },
  ];
}
