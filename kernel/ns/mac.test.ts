import { describe, expect, it } from 'vitest';
import { getRegion } from '../../proto/regions/index.js';
import { rxMeta } from './fake-radio.test-helpers.js';
import {
  deviceTimeAnswer,
  gpsToUnixMs,
  handleUplinkMac,
  markRequestsSent,
  plannedRequests,
  unixToGpsMs,
} from './mac.js';
import { defaultDeviceSession, sessionParameters } from './session.js';
import type { Device, DeviceSession } from './types.js';

const device: Device = {
  devEui: '0102030405060708',
  name: 'd',
  applicationId: 'a',
  regionId: 'EU868',
  codec: { kind: 'none' },
  activation: { mode: 'abp', devAddr: '01020304', nwkSKey: '00'.repeat(16), appSKey: '00'.repeat(16) },
  skipFCntCheck: false,
};
const region = getRegion('EU868');
const now = new Date('2026-01-01T00:00:00Z');

function session(): DeviceSession {
  return defaultDeviceSession(device, {
    devAddr: '01020304',
    nwkSKey: '00'.repeat(16),
    appSKey: '00'.repeat(16),
  });
}

function ctx(s: DeviceSession, commands: Parameters<typeof handleUplinkMac>[0]['commands']) {
  return {
    session: s,
    commands,
    rxInfo: [rxMeta({ snr: -2 })],
    upDr: 5,
    region,
    uplinkUnixMs: now.getTime(),
    now,
  };
}

describe('handleUplinkMac', () => {
  it('applies a LinkADRReq only when every LinkADRAns of the block accepts', () => {
    const s = session();
    markRequestsSent(s, [{ cid: 'LinkADRReq', dr: 5, txPowerIndex: 2, nbTrans: 1 }], now);
    const refused = handleUplinkMac(
      ctx(s, [{ cid: 'LinkADRAns', powerAck: true, dataRateAck: false, channelMaskAck: true }]),
    );
    expect(s.dr).toBe(0);
    expect(refused.notes.map((n) => n.message)).toEqual(['device refused LinkADRReq']);
    expect(s.pendingMac).toEqual([]);
    markRequestsSent(s, [{ cid: 'LinkADRReq', dr: 5, txPowerIndex: 2, nbTrans: 1 }], now);
    handleUplinkMac(ctx(s, [{ cid: 'LinkADRAns', powerAck: true, dataRateAck: true, channelMaskAck: true }]));
    expect([s.dr, s.txPowerIndex]).toEqual([5, 2]);
  });

  it('ignores answers to requests never sent', () => {
    const s = session();
    handleUplinkMac(
      ctx(s, [
        { cid: 'RXTimingSetupAns' },
        { cid: 'LinkADRAns', powerAck: true, dataRateAck: true, channelMaskAck: true },
      ]),
    );
    expect([s.rxDelay, s.dr]).toEqual([1, 0]);
  });

  it('records DevStatusAns and answers LinkCheckReq (SF7 floor -7.5 dB, SNR -2 → margin 5)', () => {
    const s = session();
    const out = handleUplinkMac(
      ctx(s, [{ cid: 'DevStatusAns', battery: 255, margin: -3 }, { cid: 'LinkCheckReq' }]),
    );
    expect(out.status).toMatchObject({ battery: 255, margin: -3 });
    expect(s.lastDevStatus?.battery).toBe(255);
    expect(out.answers).toEqual([{ cid: 'LinkCheckAns', margin: 5, gwCnt: 1 }]);
  });

  it('applies NewChannelAns for the pending channel', () => {
    const s = session();
    markRequestsSent(
      s,
      [{ cid: 'NewChannelReq', chIndex: 3, frequencyHz: 867_100_000, minDr: 0, maxDr: 5 }],
      now,
    );
    handleUplinkMac(ctx(s, [{ cid: 'NewChannelAns', dataRateRangeOk: true, channelFrequencyOk: true }]));
    expect(s.extraChannels).toEqual({ '3': 867_100_000 });
  });
});

describe('DeviceTime', () => {
  it('converts between Unix and GPS time with 18 leap seconds', () => {
    const unix = Date.parse('2026-01-01T00:00:00Z');
    expect(gpsToUnixMs(unixToGpsMs(unix))).toBe(unix);
    expect(unixToGpsMs(Date.parse('1980-01-06T00:00:00Z'))).toBe(18_000);
    expect(deviceTimeAnswer(1_000_750)).toEqual({ cid: 'DeviceTimeAns', gpsSeconds: 1000, fraction256: 192 });
  });
});

describe('plannedRequests', () => {
  it('asks nothing when the session matches and DevStatus is off', () => {
    const s = session();
    expect(
      plannedRequests(s, { parameters: sessionParameters('EU868'), devStatusIntervalMs: 0 }, {}, now)
        .commands,
    ).toEqual([]);
  });
  it('asks DevStatus again only after the interval', () => {
    const s = session();
    const config = { parameters: sessionParameters('EU868'), devStatusIntervalMs: 60_000 };
    const first = plannedRequests(s, config, {}, now);
    expect(first.commands).toEqual([{ cid: 'DevStatusReq' }]);
    markRequestsSent(s, first.pending, now);
    expect(plannedRequests(s, config, {}, new Date(now.getTime() + 59_000)).commands).toEqual([]);
    expect(plannedRequests(s, config, {}, new Date(now.getTime() + 61_000)).commands).toEqual([
      { cid: 'DevStatusReq' },
    ]);
  });
});
