import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../proto/log.js';
import type { MacCommand } from '../../proto/lorawan/index.js';
import { getRegion } from '../../proto/regions/index.js';
import { ClassAScheduler } from './downlink.js';
import { DownlinkQueue } from './downlink-queue.js';
import { FakeRadio, rxMeta } from './fake-radio.test-helpers.js';
import { defaultDeviceSession } from './session.js';
import { Transmitter } from './transmitter.js';

const KEY = '2b7e151628aed2a6abf7158809cf4f3c';

describe('ClassAScheduler frame size', () => {
  it("keeps a downlink's MACPayload within the plan's M: AS923 RX2 at DR2 under the dwell time is 19 bytes", async () => {
    const region = getRegion('AS923-2');
    const device = {
      devEui: '00000000000000b1',
      name: 'p',
      applicationId: 'a',
      regionId: region.id,
      codec: { kind: 'none' as const },
      skipFCntCheck: false,
      activation: { mode: 'otaa' as const, joinEui: '0000000000000000', appKey: KEY },
    };
    const session = defaultDeviceSession(device, { devAddr: '01020304', nwkSKey: KEY, appSKey: KEY });
    const radio = new FakeRadio();
    radio.script.push('TOO_LATE'); // RX1 refused: the frame built for RX2 goes out
    const scheduler = new ClassAScheduler(
      new Transmitter({ logger: silentLogger }),
      new DownlinkQueue(),
      silentLogger,
    );
    // 14 bytes of MAC commands: fine in FOpts at RX1's DR5, too many for RX2's 19-byte MACPayload.
    const mac: MacCommand[] = [
      { cid: 'LinkCheckAns', margin: 10, gwCnt: 1 },
      { cid: 'NewChannelReq', chIndex: 7, frequencyHz: 920_200_000, minDr: 0, maxDr: 5 },
      { cid: 'TxParamSetupReq', uplinkDwellTime: true, downlinkDwellTime: true, maxEirp: 5 },
      { cid: 'RXTimingSetupReq', delay: 1 },
      { cid: 'DevStatusReq' },
    ];
    const result = await scheduler.sendData({
      backend: radio,
      region,
      session,
      rx: rxMeta({ frequencyHz: 921_400_000 }),
      upDr: 5,
      ack: true,
      mac,
      macPending: [],
      force: false,
    });
    expect(result.sent).toBe(true);
    expect(radio.sent.map((t) => t.frequencyHz)).toEqual([921_400_000, region.rx2.frequencyHz]);
    const [rx1, rx2] = radio.sent;
    expect((rx1?.phyPayload.length ?? 0) - 5).toBe(7 + 14); // all in FOpts at DR5
    expect((rx2?.phyPayload.length ?? 99) - 5).toBeLessThanOrEqual(region.dataRate(2)?.maxMacPayload ?? 0);
    expect(region.dataRate(2)?.maxMacPayload).toBe(19);
  });
});
