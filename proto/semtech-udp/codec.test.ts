import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError, MaverickError } from '../errors.js';
import {
  decodeDatagram,
  encodePullAck,
  encodePullData,
  encodePullResp,
  encodePushAck,
  encodePushData,
  encodeTxAck,
  type RxpkInput,
  type SemtechPacket,
  type Txpk,
  txAckStatus,
  txpkFromTxRequest,
} from './index.js';

const EUI = 'aa555a0000000101';
const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

function datagram(
  version: number,
  token: number,
  id: number,
  eui: string | undefined,
  json?: string,
): Uint8Array {
  const head = [version, token >> 8, token & 0xff, id];
  const euiBytes = eui ? [...Buffer.from(eui, 'hex')] : [];
  return new Uint8Array([...head, ...euiBytes, ...(json === undefined ? [] : text(json))]);
}

function expectWireError(input: Uint8Array, code: number, messagePart?: RegExp): MaverickError {
  try {
    decodeDatagram(input);
  } catch (err) {
    expect(isMaverickError(err)).toBe(true);
    const e = err as MaverickError;
    expect(e.codeName).toBe(new MaverickError(code as MaverickError['code'], '').codeName);
    if (messagePart) expect(e.message).toMatch(messagePart);
    return e;
  }
  throw new Error('expected decodeDatagram to throw');
}

const uplink: RxpkInput = {
  phyPayload: bytes(0x40, 0x01, 0x02, 0x03, 0x04, 0x80, 0x01, 0x00, 0x01, 0xa1, 0xb2, 0xc3, 0xd4),
  rx: {
    tmst: 3512348611,
    time: '2013-03-31T16:21:17.528002Z',
    tmms: 1_048_722_095_528,
    frequencyHz: 868_100_000,
    channel: 2,
    rfChain: 1,
    dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
    codingRate: '4/5',
    rssi: -35,
    snr: 5.1,
  },
};

const txpk: Txpk = {
  immediate: false,
  tmst: 4_294_000_000,
  frequencyHz: 869_525_000,
  rfChain: 0,
  powerDbm: 27,
  dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 },
  codingRate: '4/5',
  invertPolarity: true,
  noCrc: false,
  phyPayload: bytes(0x60, 1, 2, 3, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef),
};

describe('round trips, one row per packet type (PROTOCOL.TXT §3, §5)', () => {
  const rows: Array<{ name: string; encoded: Uint8Array; expected: SemtechPacket }> = [
    {
      name: 'PUSH_DATA with one rxpk',
      encoded: encodePushData({ token: 0x1234, gatewayEui: EUI, rxpk: [uplink] }),
      expected: {
        type: 'PUSH_DATA',
        version: 2,
        token: 0x1234,
        gatewayEui: EUI,
        rxpk: [
          {
            status: 'ok',
            uplink: {
              phyPayload: uplink.phyPayload,
              rx: { ...uplink.rx, gatewayEui: EUI, backend: 'semtech-udp' },
            },
          },
        ],
      },
    },
    {
      name: 'PUSH_DATA with stat only',
      encoded: encodePushData({
        token: 7,
        gatewayEui: EUI,
        stat: {
          time: '2014-01-12 08:59:28 GMT',
          latitude: 46.24,
          longitude: 3.2523,
          altitude: 145,
          rxReceived: 2,
          rxOk: 2,
          rxForwarded: 2,
          ackRatio: 100,
          downlinksReceived: 2,
          txEmitted: 2,
        },
      }),
      expected: {
        type: 'PUSH_DATA',
        version: 2,
        token: 7,
        gatewayEui: EUI,
        rxpk: [],
        stat: {
          gatewayEui: EUI,
          time: '2014-01-12 08:59:28 GMT',
          latitude: 46.24,
          longitude: 3.2523,
          altitude: 145,
          rxReceived: 2,
          rxOk: 2,
          rxForwarded: 2,
          ackRatio: 100,
          downlinksReceived: 2,
          txEmitted: 2,
        },
      },
    },
    {
      name: 'PUSH_ACK',
      encoded: encodePushAck({ token: 0xffff }),
      expected: { type: 'PUSH_ACK', version: 2, token: 0xffff },
    },
    {
      name: 'PULL_DATA',
      encoded: encodePullData({ token: 0, gatewayEui: EUI }),
      expected: { type: 'PULL_DATA', version: 2, token: 0, gatewayEui: EUI },
    },
    {
      name: 'PULL_RESP',
      encoded: encodePullResp({ token: 0xbeef, txpk }),
      expected: { type: 'PULL_RESP', version: 2, token: 0xbeef, txpk },
    },
    {
      name: 'PULL_ACK v1',
      encoded: encodePullAck({ token: 42, version: 1 }),
      expected: { type: 'PULL_ACK', version: 1, token: 42 },
    },
    {
      name: 'TX_ACK without JSON',
      encoded: encodeTxAck({ token: 9, gatewayEui: EUI }),
      expected: { type: 'TX_ACK', version: 2, token: 9, gatewayEui: EUI },
    },
    {
      name: 'TX_ACK TOO_LATE',
      encoded: encodeTxAck({ token: 9, gatewayEui: EUI, error: 'TOO_LATE' }),
      expected: { type: 'TX_ACK', version: 2, token: 9, gatewayEui: EUI, error: 'TOO_LATE' },
    },
  ];

  for (const row of rows) {
    it(row.name, () => {
      expect(decodeDatagram(row.encoded)).toEqual(row.expected);
    });
  }

  it('puts the header bytes where PROTOCOL.TXT says', () => {
    expect([...encodePushAck({ token: 0xabcd })]).toEqual([2, 0xab, 0xcd, 0x01]);
    expect([...encodePullAck({ token: 0x0102, version: 1 })]).toEqual([1, 0x01, 0x02, 0x04]);
    const pull = encodePullData({ token: 0x0a0b, gatewayEui: 'AA555A0000000101' });
    expect([...pull]).toEqual([2, 0x0a, 0x0b, 0x02, 0xaa, 0x55, 0x5a, 0, 0, 0, 0x01, 0x01]);
  });
});

describe('txpk from a TxRequest', () => {
  it('builds a timed LoRaWAN downlink with ipol and no ncrc, freq with exactly the digits needed', () => {
    const req = {
      gatewayEui: EUI,
      tmst: 1_000_000,
      frequencyHz: 868_100_000,
      powerDbm: 14,
      dataRate: { modulation: 'LORA' as const, spreadingFactor: 7, bandwidthKHz: 125 },
      codingRate: '4/5',
      invertPolarity: true,
      phyPayload: bytes(0x20, 1, 2, 3),
    };
    const packet = encodePullResp({ token: 1, txpk: txpkFromTxRequest(req) });
    const json = new TextDecoder().decode(packet.subarray(4));
    expect(json).toBe(
      '{"txpk":{"tmst":1000000,"freq":868.1,"rfch":0,"powe":14,"modu":"LORA","datr":"SF7BW125","codr":"4/5","ipol":true,"size":4,"data":"IAECAw=="}}',
    );
  });

  it('uses imme without tmst, prea when given, fdev for FSK', () => {
    const t = txpkFromTxRequest({
      gatewayEui: EUI,
      frequencyHz: 868_800_000,
      powerDbm: 14,
      dataRate: { modulation: 'FSK', bitrate: 50_000 },
      codingRate: '4/5',
      invertPolarity: false,
      preamble: 5,
      phyPayload: bytes(1),
    });
    expect(t).toMatchObject({ immediate: true, frequencyDeviationHz: 25_000, preamble: 5 });
    expect(t.tmst).toBeUndefined();
    expect(t.codingRate).toBeUndefined();
    const decoded = decodeDatagram(encodePullResp({ token: 2, txpk: t }));
    expect(decoded).toEqual({ type: 'PULL_RESP', version: 2, token: 2, txpk: t });
  });

  it('refuses a fractional power', () => {
    expect(() =>
      txpkFromTxRequest({
        gatewayEui: EUI,
        frequencyHz: 868_100_000,
        powerDbm: 14.5,
        dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
        codingRate: '4/5',
        invertPolarity: true,
        phyPayload: bytes(1),
      }),
    ).toThrow(/powerDbm/);
  });
});

describe('TX_ACK variants', () => {
  it('maps NONE and absent to OK, errors to themselves', () => {
    expect(txAckStatus(undefined)).toBe('OK');
    expect(txAckStatus('NONE')).toBe('OK');
    expect(txAckStatus('COLLISION_BEACON')).toBe('COLLISION_BEACON');
  });

  it('tolerates a trailing NUL and whitespace, and an empty txpk_ack', () => {
    const withNul = datagram(2, 5, 5, EUI, '{"txpk_ack":{"error":"TX_FREQ"}}\0');
    expect(decodeDatagram(withNul)).toMatchObject({ type: 'TX_ACK', error: 'TX_FREQ' });
    expect(decodeDatagram(datagram(2, 5, 5, EUI, ' \0'))).toEqual({
      type: 'TX_ACK',
      version: 2,
      token: 5,
      gatewayEui: EUI,
    });
    expect(decodeDatagram(datagram(2, 5, 5, EUI, '{"txpk_ack":{}}'))).not.toHaveProperty('error');
    // sx1302 forwarders add a "warn" field: unknown keys are ignored.
    const warn = datagram(2, 5, 5, EUI, '{"txpk_ack":{"warn":"TX_POWER","value":20}}');
    expect(decodeDatagram(warn)).not.toHaveProperty('error');
  });

  it('rejects an unknown error value naming it', () => {
    expectWireError(
      datagram(2, 5, 5, EUI, '{"txpk_ack":{"error":"ON_FIRE"}}'),
      ErrorCode.WireBadField,
      /ON_FIRE/,
    );
  });
});

describe('parser robustness: every failure is a typed wire error', () => {
  const rows: Array<{ name: string; input: Uint8Array; code: number; message: RegExp }> = [
    {
      name: 'empty',
      input: bytes(),
      code: ErrorCode.WireTruncated,
      message: /shorter than the 4-byte header/,
    },
    { name: 'three bytes', input: bytes(2, 0, 0), code: ErrorCode.WireTruncated, message: /header/ },
    { name: 'version 3', input: bytes(3, 0, 0, 1), code: ErrorCode.WireBadVersion, message: /version 3/ },
    { name: 'version 0', input: bytes(0, 0, 0, 1), code: ErrorCode.WireBadVersion, message: /version 0/ },
    { name: 'identifier 0x06', input: bytes(2, 0, 0, 6), code: ErrorCode.WireBadIdentifier, message: /0x06/ },
    {
      name: 'identifier 0xff',
      input: bytes(2, 0, 0, 0xff),
      code: ErrorCode.WireBadIdentifier,
      message: /0xff/,
    },
    {
      name: 'PULL_DATA without EUI',
      input: bytes(2, 0, 0, 2, 1, 2, 3),
      code: ErrorCode.WireTruncated,
      message: /PULL_DATA/,
    },
    {
      name: 'PUSH_ACK with extra bytes',
      input: bytes(2, 0, 0, 1, 9),
      code: ErrorCode.WireOversize,
      message: /PUSH_ACK must be 4/,
    },
    {
      name: 'PUSH_DATA without JSON',
      input: datagram(2, 1, 0, EUI),
      code: ErrorCode.WireTruncated,
      message: /PUSH_DATA/,
    },
    {
      name: 'PUSH_DATA broken JSON',
      input: datagram(2, 1, 0, EUI, '{"rxpk":[{'),
      code: ErrorCode.WireBadJson,
      message: /does not parse/,
    },
    {
      name: 'PUSH_DATA JSON array',
      input: datagram(2, 1, 0, EUI, '[1,2]'),
      code: ErrorCode.WireBadJson,
      message: /object/,
    },
    {
      name: 'PUSH_DATA bad UTF-8',
      input: new Uint8Array([...datagram(2, 1, 0, EUI), 0x7b, 0xff, 0x7d]),
      code: ErrorCode.WireBadJson,
      message: /UTF-8/,
    },
    {
      name: 'rxpk not an array',
      input: datagram(2, 1, 0, EUI, '{"rxpk":{}}'),
      code: ErrorCode.WireBadField,
      message: /rxpk must be an array/,
    },
    {
      name: 'PULL_RESP without txpk',
      input: datagram(2, 1, 3, undefined, '{"foo":1}'),
      code: ErrorCode.WireBadField,
      message: /txpk must be an object/,
    },
    {
      name: 'PULL_RESP without timing',
      input: datagram(2, 1, 3, undefined, '{"txpk":{"freq":868.1,"datr":"SF7BW125","data":"AA=="}}'),
      code: ErrorCode.WireBadField,
      message: /imme, tmst/,
    },
    {
      name: 'oversize',
      input: new Uint8Array(65_508).fill(0x20),
      code: ErrorCode.WireOversize,
      message: /exceeds/,
    },
    {
      name: 'too many rxpk',
      input: datagram(2, 1, 0, EUI, `{"rxpk":[${Array(256).fill('{}').join(',')}]}`),
      code: ErrorCode.WireOversize,
      message: /256 entries/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expectWireError(row.input, row.code, row.message);
    });
  }

  it('accepts protocol version 1 for every type', () => {
    expect(decodeDatagram(datagram(1, 3, 2, EUI))).toEqual({
      type: 'PULL_DATA',
      version: 1,
      token: 3,
      gatewayEui: EUI,
    });
    expect(decodeDatagram(datagram(1, 3, 0, EUI, '{}'))).toMatchObject({
      type: 'PUSH_DATA',
      version: 1,
      rxpk: [],
    });
  });

  it('ignores a __proto__ key instead of letting it reach an object prototype', () => {
    const p = decodeDatagram(datagram(2, 1, 0, EUI, '{"__proto__":{"rxpk":[1]},"stat":{"rxnb":1}}'));
    expect(p).toMatchObject({ type: 'PUSH_DATA', rxpk: [], stat: { rxReceived: 1 } });
  });
});
