import { describe, expect, it } from 'vitest';
import type { RxMetadata } from '../radio.js';
import {
  ackEventJson,
  gatewayStateJson,
  joinEventJson,
  logEventJson,
  statusEventJson,
  txAckEventJson,
  uplinkEventJson,
} from './events.js';
import { rxInfoJson } from './metadata.js';

const device = {
  tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
  tenantName: 'Farm',
  applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
  applicationName: 'Soil',
  deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad',
  deviceProfileName: 'LPP sensor',
  deviceName: 'probe-1',
  devEui: '0101010101010101',
  tags: { plot: 'north' },
};

const rx: RxMetadata = {
  gatewayEui: '0016C001F153A14C',
  tmst: 0x13739639,
  frequencyHz: 867100000,
  channel: 3,
  rfChain: 1,
  dataRate: { modulation: 'LORA', spreadingFactor: 11, bandwidthKHz: 125 },
  codingRate: '4/5',
  rssi: -36,
  snr: 10.5,
  backend: 'semtech-udp',
};

const time = new Date('2026-05-01T10:00:00.000Z');

describe('ChirpStack v4 event JSON', () => {
  it('builds an up event with ChirpStack keys, base64 data and the time provenance', () => {
    const json = uplinkEventJson({
      deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      time,
      timeSource: 'gps',
      device,
      devAddr: '00189440',
      adr: true,
      dr: 1,
      fCnt: 10,
      fPort: 1,
      confirmed: false,
      data: new Uint8Array([0xaa]),
      object: { temperatureSensor: { '1': 21.5 } },
      rx: [rx],
      rxExtras: [{ uplinkId: 4217106255, nsTime: time }],
      regionConfigId: 'eu868',
      regionCommonName: 'EU868',
    });
    expect(json).toEqual({
      deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      time: '2026-05-01T10:00:00.000Z',
      deviceInfo: { ...device, deviceClassEnabled: 'CLASS_A' },
      devAddr: '00189440',
      adr: true,
      dr: 1,
      fCnt: 10,
      fPort: 1,
      confirmed: false,
      data: 'qg==',
      object: { temperatureSensor: { '1': 21.5 } },
      rxInfo: [
        {
          gatewayId: '0016c001f153a14c',
          uplinkId: 4217106255,
          nsTime: '2026-05-01T10:00:00.000Z',
          rssi: -36,
          snr: 10.5,
          channel: 3,
          rfChain: 1,
          context: 'E3OWOQ==',
          metadata: {
            region_config_id: 'eu868',
            region_common_name: 'EU868',
            maverick_time_source: 'gps',
          },
          crcStatus: 'CRC_OK',
        },
      ],
      txInfo: {
        frequency: 867100000,
        modulation: { lora: { bandwidth: 125000, spreadingFactor: 11, codeRate: 'CR_4_5' } },
      },
      regionConfigId: 'eu868',
    });
  });

  it('generates a UUID deduplication id and a u32 uplink id when none is given', () => {
    const json = uplinkEventJson({
      time,
      timeSource: 'host-unsynced',
      device,
      devAddr: '00189440',
      adr: false,
      dr: 5,
      fCnt: 0,
      confirmed: true,
      data: new Uint8Array(0),
      rx: [{ ...rx, time: '2026-05-01T09:59:59.999Z', tmms: 1_400_000_000_500 }],
      regionConfigId: 'eu868',
      regionCommonName: 'EU868',
    });
    expect(json.deduplicationId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const rxInfo = (json.rxInfo as Record<string, unknown>[])[0]!;
    expect(Number.isInteger(rxInfo.uplinkId)).toBe(true);
    expect(rxInfo.gwTime).toBe('2026-05-01T09:59:59.999Z');
    expect(rxInfo.timeSinceGpsEpoch).toBe('1400000000.5s');
    expect(json.fPort).toBe(0);
    expect(json.object).toBeUndefined();
    expect(json.data).toBe('');
  });

  it('gives each receiver a random u32 uplinkId, across refills of its random pool', () => {
    const ids = Array.from({ length: 3000 }, () => rxInfoJson(rx).uplinkId as number);
    for (const id of ids) expect(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff).toBe(true);
    // 3,000 draws from 2^32 collide with probability ~0.1 %; a pool handed out twice would not pass.
    expect(new Set(ids).size).toBeGreaterThan(2990);
  });

  it('builds join, ack, txack, status and log events', () => {
    const common = { deduplicationId: 'd', time, timeSource: 'ntp' as const, device };
    expect(joinEventJson({ ...common, devAddr: '01ABCDEF', regionConfigId: 'us915' })).toMatchObject({
      devAddr: '01abcdef',
      regionConfigId: 'us915',
    });
    expect(ackEventJson({ ...common, queueItemId: 'q', acknowledged: true, fCntDown: 7 })).toMatchObject({
      queueItemId: 'q',
      acknowledged: true,
      fCntDown: 7,
    });
    const txack = txAckEventJson({
      time,
      timeSource: 'gps',
      device,
      downlinkId: 12,
      queueItemId: 'q',
      fCntDown: 3,
      gatewayEui: 'AA555A0000000000',
      tx: {
        frequencyHz: 869525000,
        powerDbm: 27,
        dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
        codingRate: '4/5',
        invertPolarity: true,
        delayMs: 1000,
        uplinkTmst: 0x13739639,
      },
    });
    expect(txack).toMatchObject({
      downlinkId: 12,
      gatewayId: 'aa555a0000000000',
      txInfo: {
        frequency: 869525000,
        power: 27,
        modulation: {
          lora: { bandwidth: 125000, spreadingFactor: 12, codeRate: 'CR_4_5', polarizationInversion: true },
        },
        timing: { delay: { delay: '1s' } },
        context: 'E3OWOQ==',
      },
    });
    expect(statusEventJson({ ...common, margin: 7, battery: 127 })).toMatchObject({
      margin: 7,
      externalPowerSource: false,
      batteryLevelUnavailable: false,
      batteryLevel: 50,
    });
    expect(statusEventJson({ ...common, margin: -3, battery: 0 })).toMatchObject({
      externalPowerSource: true,
      batteryLevel: 0,
    });
    expect(statusEventJson({ ...common, margin: -3, battery: 255 })).toMatchObject({
      batteryLevelUnavailable: true,
    });
    expect(
      logEventJson({
        time,
        timeSource: 'gps',
        device,
        level: 'ERROR',
        code: 'UPLINK_CODEC',
        description: 'boom',
        context: { deduplication_id: 'd' },
      }),
    ).toMatchObject({
      level: 'ERROR',
      code: 'UPLINK_CODEC',
      description: 'boom',
      context: { deduplication_id: 'd', maverick_time_source: 'gps' },
    });
    expect(gatewayStateJson('AA555A0000000000', 'OFFLINE')).toEqual({
      gatewayId: 'aa555a0000000000',
      state: 'OFFLINE',
    });
  });
});
