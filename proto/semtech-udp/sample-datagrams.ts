/**
 * One valid datagram of every kind the Semtech UDP codec handles (PUSH_DATA with
 * LoRa and FSK rxpk and a stat, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK):
 * the seed corpus of the codec's property tests and of the fuzzing benchmark.
 */
import {
  encodePullAck,
  encodePullData,
  encodePullResp,
  encodePushAck,
  encodePushData,
  encodeTxAck,
} from './index.js';

const EUI = 'b827ebfffe000001';

export function sampleDatagrams(): Uint8Array[] {
  return [
    encodePushData({
      token: 1,
      gatewayEui: EUI,
      rxpk: [
        {
          phyPayload: new Uint8Array([0x40, 1, 2, 3, 4, 0, 1, 0, 1, 9, 9, 9, 9]),
          rx: {
            tmst: 4294967295,
            time: '2026-11-21T10:00:00.123456Z',
            frequencyHz: 868_300_000,
            channel: 1,
            rfChain: 0,
            dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
            codingRate: '4/5',
            rssi: -120,
            snr: -17.5,
            antennas: [{ antenna: 0, channel: 1, rssi: -120, snr: -17.5, foff: 12, etime: 'AAAA' }],
          },
        },
        {
          phyPayload: new Uint8Array([1, 2, 3]),
          rx: {
            tmst: 0,
            frequencyHz: 868_800_000,
            channel: 8,
            rfChain: 1,
            dataRate: { modulation: 'FSK', bitrate: 50_000 },
            rssi: -60,
          },
          crc: 'bad',
        },
      ],
      stat: {
        time: '2026-11-21 10:00:00 UTC',
        latitude: -33.9,
        longitude: 18.4,
        altitude: 12,
        rxReceived: 9,
        rxOk: 8,
        rxForwarded: 8,
        ackRatio: 99.5,
        downlinksReceived: 1,
        txEmitted: 1,
      },
    }),
    encodePushAck({ token: 2 }),
    encodePullData({ token: 3, gatewayEui: EUI }),
    encodePullResp({
      token: 4,
      txpk: {
        immediate: false,
        tmst: 123,
        frequencyHz: 869_525_000,
        rfChain: 0,
        powerDbm: 27,
        dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 },
        codingRate: '4/5',
        invertPolarity: true,
        preamble: 8,
        noCrc: false,
        phyPayload: new Uint8Array(40).fill(7),
      },
    }),
    encodePullAck({ token: 5 }),
    encodeTxAck({ token: 6, gatewayEui: EUI, error: 'COLLISION_PACKET' }),
  ];
}
