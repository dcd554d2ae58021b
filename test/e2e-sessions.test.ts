/**
 * Every uplink a device sends is kept, across sessions, over real sockets: frames go in as
 * PUSH_DATA from the packet-forwarder emulator over loopback UDP, events come out on the
 * embedded broker to a real MQTT client, the store is the gateway's SQLite, and the sealed
 * bundles are checked by the independent Python verifier (cbor2 + cryptography).
 *
 * - an OTAA device that joins and then rejoins three times, FCnt 0..2 in each session;
 * - an ABP device registered with skip-fcnt-check whose counter resets (0..3, then 0..2);
 * - an ABP device crossing the 16-bit FCnt rollover (65534 .. 65537).
 * Each valid uplink is published once, stored once and sealed once; a retransmission and a
 * frame heard twice in one PUSH_DATA are not; the bundle's per-device summaries list the sessions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import { generateGatewayKey, publicKeyPath } from '../kernel/keys/gateway-key.js';
import { addDevice } from '../kernel/ns/registry.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import { toHex } from '../proto/bundle/ed25519.js';
import type { ForwarderDownlink, PacketForwarderEmulator } from '../simulator/packet-forwarder.js';
import {
  Cleanups,
  EventListener,
  openSerialLine,
  serialLineLabel,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  waitUntil,
} from './helpers/e2e-field.js';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const verifier = join(import.meta.dirname, 'fixtures', 'verify_bundle.py');

const OTAA = {
  devEui: '70b3d57ed0000101',
  joinEui: '70b3d57ed0000000',
  appKey: '2b7e151628aed2a6abf7158809cf4f3c',
};
const RESET = {
  devEui: '70b3d57ed0000102',
  devAddr: '26011c01',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};
const ROLLOVER = {
  devEui: '70b3d57ed0000103',
  devAddr: '26011c02',
  nwkSKey: '101112131415161718191a1b1c1d1e1f',
  appSKey: '1f1e1d1c1b1a19181716151413121110',
};

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const meta = { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -60, snr: 9 };

describe('uplinks of every session are published, stored and sealed once', () => {
  it(`rejoins, a counter reset and a 16-bit rollover over UDP, MQTT and a verified bundle (${serialLineLabel})`, async () => {
    const dataDir = tempDataDir(cleanups);
    const key = await generateGatewayKey(dataDir);
    const line = await openSerialLine(cleanups, 'sessions');
    startMcu(cleanups, line);
    const gw = await startGateway(dataDir, line, {
      sealing: { periodMs: 3_600_000, checkEveryMs: 3_600_000 },
    });
    cleanups.add(() => gw.runtime.stop());
    const forwarder: PacketForwarderEmulator = await startForwarder(cleanups, gw.udpPort);
    expect(await forwarder.pullData()).toBe(true);
    const listener = await EventListener.connect(gw.runtime, cleanups);
    const downlinks: ForwarderDownlink[] = [];
    forwarder.on('downlink', (d) => downlinks.push(d));

    const repo = gw.runtime.repository;
    await addDevice(repo, {
      devEui: OTAA.devEui,
      name: 'rejoiner',
      applicationId: 'farm',
      activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
    });
    for (const [spec, name, skip] of [
      [RESET, 'resetter', true],
      [ROLLOVER, 'roller', false],
    ] as const) {
      await addDevice(repo, {
        devEui: spec.devEui,
        name,
        applicationId: 'farm',
        skipFCntCheck: skip,
        activation: { mode: 'abp', devAddr: spec.devAddr, nwkSKey: spec.nwkSKey, appSKey: spec.appSKey },
      });
    }

    let heard = 0;
    const send = async (phyPayload: Uint8Array, copies = 1) => {
      const { acked } = await forwarder.sendUplinks(
        Array.from({ length: copies }, () => ({ phyPayload, meta })),
      );
      expect(acked).toBe(true);
      heard += copies;
      await waitUntil(
        () => (gw.runtime.counters().radio_uplinks ?? 0) >= heard,
        5_000,
        'the gateway to hear it',
      );
      // Releases the de-duplication window at once and waits until the frame is stored and published.
      await gw.runtime.ns.flush();
    };
    const expected: string[] = [];

    // OTAA: four sessions (join + three rejoins), FCnt 0..2 in each.
    const otaa = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    for (let session = 0; session < 4; session++) {
      const before = downlinks.length;
      await send(otaa.joinRequest());
      // The previous session's last answer may still be on its way: pick the join accept (MHDR 0x20).
      const joinAccept = () => downlinks.slice(before).find((d) => d.txpk.phyPayload[0] === 0x20);
      await waitUntil(() => joinAccept() !== undefined, 5_000, 'a join accept');
      otaa.acceptJoin((joinAccept() as ForwarderDownlink).txpk.phyPayload);
      for (let fCnt = 0; fCnt < 3; fCnt++) {
        const frame = otaa.uplink({ payload: Uint8Array.of(session, fCnt) });
        // The frame heard twice in one PUSH_DATA (two receivers): one uplink.
        await send(frame, fCnt === 1 ? 2 : 1);
        expected.push(`${OTAA.devEui}/${session}/${fCnt}`);
        // A retransmission of the last frame of the session: no new uplink.
        if (fCnt === 2) await send(frame);
      }
    }

    // ABP with skip-fcnt-check: 0..3, the device resets, 0..2.
    const resetter = TestDevice.abp(RESET.devEui, RESET.devAddr, RESET.nwkSKey, RESET.appSKey);
    for (const [session, fCnt] of [
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 1],
      [1, 2],
    ] as const) {
      await send(resetter.uplink({ fCnt, payload: Uint8Array.of(fCnt) }));
      expected.push(`${RESET.devEui}/${session}/${fCnt}`);
    }

    // ABP across the 16-bit rollover: FCnt16 wraps to 0 at 65536.
    const roller = TestDevice.abp(ROLLOVER.devEui, ROLLOVER.devAddr, ROLLOVER.nwkSKey, ROLLOVER.appSKey);
    for (const fCnt of [65_534, 65_535, 65_536, 65_537]) {
      await send(roller.uplink({ fCnt, payload: Uint8Array.of(fCnt & 0xff) }));
      expected.push(`${ROLLOVER.devEui}/0/${fCnt}`);
    }

    // Published once each, over MQTT.
    await waitUntil(() => listener.of('up').length >= expected.length, 10_000, 'up events');
    await new Promise((r) => setTimeout(r, 100));
    const ups = listener.of('up');
    expect(ups).toHaveLength(expected.length);
    expect(listener.of('join')).toHaveLength(4);
    expect(gw.runtime.counters().retransmissions).toBe(4);
    // In the order sent, each with its session (rxInfo metadata `maverick_session`): FCnt 0.. again is a new uplink.
    const upKey = (e: (typeof ups)[number]) => {
      const json = e.json as { fCnt: number; rxInfo: { metadata: Record<string, string> }[] };
      return `${e.devEui}/${json.rxInfo[0]?.metadata.maverick_session}/${json.fCnt}`;
    };
    expect(ups.map(upKey)).toEqual(expected);

    // Stored once each, under their sessions.
    expect(await countUplinks(gw.runtime.db)).toBe(expected.length);
    const stored = (await gw.runtime.db.uplinks.find().exec()).map((u) => {
      const parts = u.id.split('|');
      return `${u.devEui}/${parts.length === 3 ? Number(parts[1]) : 0}/${u.fCnt}`;
    });
    expect(stored.sort()).toEqual([...expected].sort());

    // Sealed once each, in a bundle the Python verifier accepts and whose summaries show the sessions.
    const sealer = gw.runtime.sealer;
    if (!sealer) throw new Error('sealing is not configured');
    const bundles = await sealer.sealNow();
    expect(bundles.reduce((n, b) => n + b.uplinks, 0)).toBe(expected.length);
    expect(await gw.runtime.db.uplinks.count({ selector: { sealedSeq: -1 } }).exec()).toBe(0);
    const devices: Record<string, unknown>[] = [];
    for (const bundle of bundles) {
      const path = join(dataDir, `bundle-${bundle.seq}.cose`);
      await writeFile(path, bundle.cose);
      const result = spawnSync(python, [verifier, path, publicKeyPath(dataDir, toHex(key.kid))], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const out = JSON.parse(result.stdout) as {
        valid: boolean;
        version: number;
        devices: Record<string, unknown>[];
      };
      expect(out).toMatchObject({ valid: true, version: 3 });
      devices.push(...out.devices);
    }
    const byDevice = (devEui: string) => devices.find((d) => d.devEui === devEui);
    expect(byDevice(OTAA.devEui)).toMatchObject({
      uplinks: 12,
      missingFCnt: [],
      counterResets: 0,
      sessions: [0, 1, 2, 3].map((session) => ({ session, uplinks: 3, fCnt: [0, 2] })),
    });
    expect(byDevice(RESET.devEui)).toMatchObject({
      uplinks: 7,
      missingFCnt: [],
      counterResets: 0,
      sessions: [
        { session: 0, uplinks: 4, fCnt: [0, 3] },
        { session: 1, uplinks: 3, fCnt: [0, 2] },
      ],
    });
    expect(byDevice(ROLLOVER.devEui)).toMatchObject({
      uplinks: 4,
      missingFCnt: [],
      counterResets: 0,
      sessions: [{ session: 0, uplinks: 4, fCnt: [65_534, 65_537] }],
    });
  });
});
