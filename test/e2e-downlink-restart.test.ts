/**
 * Queued downlinks survive a gateway restart: three payloads (the second confirmed) are
 * queued for a Class A device, the gateway runtime stops and starts again on the same data
 * directory, and the device's next uplinks (PUSH_DATA over loopback UDP from the
 * packet-forwarder emulator) collect all three, in order, through PULL_RESP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addDevice } from '../kernel/ns/registry.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import { encodeMacCommands, type MacCommand } from '../proto/lorawan/index.js';
import type { ForwarderDownlink } from '../simulator/packet-forwarder.js';
import {
  Cleanups,
  type GatewayUnderTest,
  openSerialLine,
  serialLineLabel,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  waitUntil,
} from './helpers/e2e-field.js';

const ABP = {
  devEui: '70b3d57ed0000201',
  devAddr: '26011d01',
  nwkSKey: '202122232425262728292a2b2c2d2e2f',
  appSKey: '2f2e2d2c2b2a29282726252423222120',
};
const meta = { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -60, snr: 9 };

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('queued downlinks across a gateway restart', () => {
  it(`delivers all three, in order, after the restart (${serialLineLabel})`, async () => {
    const dataDir = tempDataDir(cleanups);
    const line = await openSerialLine(cleanups, 'dl-restart');
    startMcu(cleanups, line);
    let gw: GatewayUnderTest = await startGateway(dataDir, line);
    let running = true;
    cleanups.add(() => (running ? gw.runtime.stop() : undefined));
    await addDevice(gw.runtime.repository, {
      devEui: ABP.devEui,
      name: 'valve',
      applicationId: 'farm',
      activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
    });
    const queued: string[] = [];
    for (const [i, confirmed] of [false, true, false].entries()) {
      queued.push(
        await gw.runtime.ns.enqueueDownlink(ABP.devEui, {
          fPort: 20 + i,
          confirmed,
          data: Uint8Array.of(0xd0 + i),
        }),
      );
    }

    const udpPort = gw.udpPort;
    running = false;
    await gw.runtime.stop();
    gw = await startGateway(dataDir, line, { udpPort });
    running = true;
    expect(gw.runtime.ns.queue.list(ABP.devEui).map((q) => q.id)).toEqual(queued);

    const forwarder = await startForwarder(cleanups, gw.udpPort);
    expect(await forwarder.pullData()).toBe(true);
    const downlinks: ForwarderDownlink[] = [];
    forwarder.on('downlink', (d) => downlinks.push(d));
    const acks: boolean[] = [];
    gw.runtime.ns.on('ack', (a) => acks.push(a.acknowledged));
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);

    // The first answer brings the network's MAC requests (extra channels, on FPort 0 when they
    // need more than FOpts holds); the device answers them as a real one would, so uplinks go on
    // (a bounded number) until the three application payloads arrived.
    const received: { fPort?: number; payload: number[]; confirmed: boolean }[] = [];
    let ack = false;
    let answers: MacCommand[] = [];
    for (let i = 0; i < 10 && received.length < 3; i++) {
      const fOpts = encodeMacCommands(answers, 'up');
      await forwarder.sendUplinks([
        { phyPayload: device.uplink({ payload: Uint8Array.of(i), ack, fOpts }), meta },
      ]);
      await waitUntil(() => downlinks.length > i, 10_000, `the answer to uplink ${i}`);
      const read = device.readDownlink((downlinks[i] as ForwarderDownlink).txpk.phyPayload);
      // The device acknowledges a confirmed downlink in its next uplink.
      ack = read.frame.mType === 'ConfirmedDataDown';
      answers = read.mac.flatMap((c): MacCommand[] => {
        if (c.cid === 'NewChannelReq')
          return [{ cid: 'NewChannelAns', dataRateRangeOk: true, channelFrequencyOk: true }];
        if (c.cid === 'DevStatusReq') return [{ cid: 'DevStatusAns', battery: 200, margin: 10 }];
        if (c.cid === 'RXTimingSetupReq') return [{ cid: 'RXTimingSetupAns' }];
        if (c.cid === 'RXParamSetupReq')
          return [{ cid: 'RXParamSetupAns', rx1DrOffsetAck: true, rx2DataRateAck: true, channelAck: true }];
        return [];
      });
      if (!read.frame.fPort) continue;
      received.push({ fPort: read.frame.fPort, payload: [...read.payload], confirmed: ack });
    }
    expect(received).toEqual([
      { fPort: 20, payload: [0xd0], confirmed: false },
      { fPort: 21, payload: [0xd1], confirmed: true },
      { fPort: 22, payload: [0xd2], confirmed: false },
    ]);
    await gw.runtime.ns.settle();
    expect(acks).toEqual([true]);
    expect(gw.runtime.ns.queue.size(ABP.devEui)).toBe(0);
  });
});
