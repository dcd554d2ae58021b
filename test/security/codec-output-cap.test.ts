/**
 * Attack 8 of the hardening issue (codec output): a device's JS codec that
 * returns a 4 MiB string used to have it stored and published with every
 * uplink. Now, end to end through the gateway runtime: the uplink is kept
 * (without a decoded object), the store holds no megabytes, and a ChirpStack
 * `log` event says why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SemtechUdpBackend } from '../../gateway/radio/semtech-udp.js';
import { startGatewayRuntime } from '../../gateway/runtime.js';
import { addDevice } from '../../kernel/ns/registry.js';
import { PacketForwarderEmulator } from '../../simulator/packet-forwarder.js';
import {
  Cleanups,
  EventListener,
  MQTT_PASSWORD,
  MQTT_USER,
  tempDataDir,
  UDP_GATEWAY,
  waitUntil,
} from '../helpers/e2e-field.js';
import { abpDevice } from './devices.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const DEVICE = {
  devEui: '0102030405060709',
  devAddr: '01000009',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};

describe('codec output cap (end to end)', () => {
  it('keeps the uplink without the 4 MiB object and publishes a log event saying why', async () => {
    const dataDir = tempDataDir(cleanups);
    const codecPath = join(dataDir, 'huge.js');
    writeFileSync(
      codecPath,
      `function decodeUplink(input) { var s = 'x'; while (s.length < 4194304) s += s; return { data: { blob: s } }; }`,
    );
    const udp = new SemtechUdpBackend({ host: '127.0.0.1', port: 0, allowedGateways: [UDP_GATEWAY] });
    const runtime = await startGatewayRuntime({
      dataDir,
      gatewayId: UDP_GATEWAY,
      regionId: 'EU868',
      radios: [udp],
      mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: MQTT_USER, password: MQTT_PASSWORD },
      synchronous: 'NORMAL',
    });
    cleanups.add(() => runtime.stop());
    await addDevice(runtime.repository, {
      devEui: DEVICE.devEui,
      name: 'huge codec',
      applicationId: 'farm',
      regionId: 'EU868',
      codec: { kind: 'js', path: codecPath },
      activation: { mode: 'abp', devAddr: DEVICE.devAddr, nwkSKey: DEVICE.nwkSKey, appSKey: DEVICE.appSKey },
    });
    const events = await EventListener.connect(runtime, cleanups);
    const forwarder = new PacketForwarderEmulator({
      host: '127.0.0.1',
      port: udp.address().port,
      gatewayEui: UDP_GATEWAY,
    });
    await forwarder.start();
    cleanups.add(() => forwarder.stop());
    const device = abpDevice(DEVICE, 9);
    await forwarder.sendUplink(device.uplink({ fPort: 2, payload: new Uint8Array([1, 2, 3]) }), {
      frequencyHz: 868_100_000,
      dataRate: 'SF7BW125',
      rssi: -70,
      snr: 7,
    });
    await waitUntil(
      () => events.of('up').length === 1 && events.of('log').length === 1,
      30_000,
      'up and log events',
    );
    const up = events.of('up')[0]!.json;
    expect(up.object).toBeUndefined();
    const log = events.of('log')[0]!.json as { description: string };
    expect(log.description).toMatch(/decodeUplink returned \d+ bytes, more than the 16384 allowed/);
    const stored = await runtime.db.uplinks.findOne({ selector: { devEui: DEVICE.devEui } }).exec();
    expect(stored?.object).toBeUndefined();
    expect(JSON.stringify(stored?.toJSON()).length).toBeLessThan(16_384);
  }, 60_000);
});
