import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../errors.js';
import { decodeDatagram, hzToMhz, mhzToHz, type PushDataPacket, type RxpkOutcome } from './index.js';

const EUI = '0102030405060708';

function pushData(json: string): PushDataPacket {
  const head = [2, 0x12, 0x34, 0, ...Buffer.from(EUI, 'hex')];
  const packet = decodeDatagram(new Uint8Array([...head, ...new TextEncoder().encode(json)]));
  if (packet.type !== 'PUSH_DATA') throw new Error(`expected PUSH_DATA, got ${packet.type}`);
  return packet;
}

/** A valid rxpk (PROTOCOL.TXT §4 example, data re-encoded as standard base64) with overrides. */
function rxpk(overrides: Record<string, unknown> = {}, remove: string[] = []): string {
  const base: Record<string, unknown> = {
    time: '2013-03-31T16:21:17.528002Z',
    tmst: 3512348611,
    chan: 2,
    rfch: 0,
    freq: 866.349812,
    stat: 1,
    modu: 'LORA',
    datr: 'SF7BW125',
    codr: '4/6',
    rssi: -35,
    lsnr: 5.1,
    size: 4,
    data: 'AQIDBA==',
  };
  for (const key of remove) delete base[key];
  return JSON.stringify({ ...base, ...overrides });
}

function only(json: string): RxpkOutcome {
  const p = pushData(`{"rxpk":[${json}]}`);
  expect(p.rxpk).toHaveLength(1);
  return p.rxpk[0]!;
}

function okRx(json: string) {
  const o = only(json);
  if (o.status !== 'ok') throw new Error(`expected ok, got ${o.status}: ${o.reason}`);
  return o.uplink.rx;
}

describe('freq: MHz float <-> integer Hz without float error', () => {
  const rows: Array<[number, number]> = [
    [868.1, 868_100_000],
    [902.3, 902_300_000],
    [866.349812, 866_349_812],
    [863.00981, 863_009_810],
    [869.525, 869_525_000],
    [923.2, 923_200_000],
    [433.175, 433_175_000],
    [2403, 2_403_000_000],
  ];
  for (const [mhz, hz] of rows) {
    it(`${mhz} MHz is ${hz} Hz and back`, () => {
      expect(mhzToHz(mhz, 'freq')).toBe(hz);
      expect(hzToMhz(hz)).toBe(mhz);
      expect(JSON.stringify(hzToMhz(hz))).toBe(String(mhz));
    });
  }

  it('rounds sub-Hz digits to the nearest Hz', () => {
    expect(mhzToHz(868.1000004, 'freq')).toBe(868_100_000);
    expect(mhzToHz(868.1000005, 'freq')).toBe(868_100_001);
    expect(mhzToHz(868.0999996, 'freq')).toBe(868_100_000);
  });

  it('round-trips every integer Hz between 100 MHz and 3 GHz', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100_000_000, max: 3_000_000_000 }), (hz) => {
        const mhz = hzToMhz(hz);
        expect(mhzToHz(JSON.parse(JSON.stringify(mhz)), 'freq')).toBe(hz);
      }),
      { numRuns: 20_000 },
    );
  });

  it('rejects nonsense frequencies with the field named', () => {
    for (const bad of [0, -868.1, 1e21, 5e-7, 'a', null]) {
      expect(() => mhzToHz(bad, 'rxpk[0].freq')).toThrow(/rxpk\[0\]\.freq/);
    }
    expect(() => hzToMhz(868.1e6 + 0.5)).toThrow(/integer number of Hz/);
  });
});

describe('rxpk edge cases (PROTOCOL.TXT §4)', () => {
  it('maps every field of the spec example', () => {
    expect(okRx(rxpk())).toEqual({
      gatewayEui: EUI,
      tmst: 3512348611,
      time: '2013-03-31T16:21:17.528002Z',
      frequencyHz: 866_349_812,
      channel: 2,
      rfChain: 0,
      dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
      codingRate: '4/6',
      rssi: -35,
      snr: 5.1,
      backend: 'semtech-udp',
    });
  });

  it('accepts tmst at both ends of the u32 range and rejects outside it', () => {
    expect(okRx(rxpk({ tmst: 0 })).tmst).toBe(0);
    expect(okRx(rxpk({ tmst: 4294967295 })).tmst).toBe(4294967295);
    for (const tmst of [4294967296, -1, 1.5, '5']) {
      const o = only(rxpk({ tmst }));
      expect(o.status).toBe('invalid');
      if (o.status !== 'ok') expect(o.reason).toMatch(/rxpk\[0\]\.tmst/);
    }
  });

  it('has no time without GPS, and keeps tmms when given', () => {
    const rx = okRx(rxpk({}, ['time']));
    expect(rx).not.toHaveProperty('time');
    expect(okRx(rxpk({ tmms: 1_300_000_000_123 })).tmms).toBe(1_300_000_000_123);
    expect(only(rxpk({ time: 'yesterday' })).status).toBe('invalid');
  });

  it('counts bad-CRC and no-CRC frames apart and does not validate them further', () => {
    expect(only(rxpk({ stat: -1, data: '!!' })).status).toBe('bad-crc');
    expect(only(rxpk({ stat: 0 })).status).toBe('no-crc');
    expect(only(rxpk({ stat: 2 })).status).toBe('invalid');
    expect(only(rxpk({}, ['stat'])).status).toBe('invalid');
  });

  it('drops a frame whose size disagrees with its data', () => {
    const o = only(rxpk({ size: 5 }));
    expect(o).toMatchObject({ status: 'invalid', index: 0 });
    if (o.status !== 'ok') expect(o.reason).toMatch(/size says 5 bytes but data decodes to 4/);
    expect(okRx(rxpk({}, ['size'])).frequencyHz).toBe(866_349_812);
  });

  it('rejects corrupt base64 instead of silently shortening it', () => {
    for (const data of ['AQID#A==', 'AQIDB', 'A===', 42]) {
      expect(only(rxpk({ data }, ['size'])).status).toBe('invalid');
    }
    expect(okRx(rxpk({ data: 'AQIDBA' })).tmst).toBe(3512348611); // unpadded is fine
  });

  it('ignores unknown keys', () => {
    expect(okRx(rxpk({ brd: 0, aesk: 0, foo: { bar: [1] }, rssis: -40 })).rssi).toBe(-35);
  });

  it('decodes FSK with a numeric datr and no SNR', () => {
    const rx = okRx(rxpk({ modu: 'FSK', datr: 50000, lsnr: undefined }, ['codr']));
    expect(rx.dataRate).toEqual({ modulation: 'FSK', bitrate: 50000 });
    expect(rx).not.toHaveProperty('snr');
    expect(rx).not.toHaveProperty('codingRate');
    expect(only(rxpk({ modu: 'LORA', datr: 50000 })).status).toBe('invalid');
    expect(only(rxpk({ datr: 'SF13BW125' })).status).toBe('invalid');
  });

  it('maps multi-antenna rsig to antennas and the best rssi/snr', () => {
    const rx = okRx(
      rxpk(
        {
          rsig: [
            { ant: 0, chan: 2, rssic: -110, lsnr: -3.5, etime: 'c2VjcmV0', foff: -120 },
            { ant: 1, chan: 2, rssic: -97, lsnr: 1.25, rssis: -99 },
          ],
        },
        ['rssi', 'lsnr'],
      ),
    );
    expect(rx.rssi).toBe(-97);
    expect(rx.snr).toBe(1.25);
    expect(rx.antennas).toEqual([
      { antenna: 0, channel: 2, rssi: -110, snr: -3.5, etime: 'c2VjcmV0', foff: -120 },
      { antenna: 1, channel: 2, rssi: -97, snr: 1.25 },
    ]);
    expect(only(rxpk({ rsig: [{ ant: 0 }] }, ['rssi'])).status).toBe('invalid');
    expect(only(rxpk({ rsig: [] })).status).toBe('invalid');
  });

  it('drops a bad entry without losing its siblings', () => {
    const p = pushData(
      `{"rxpk":[${rxpk()},${rxpk({ freq: 'x' })},7,${rxpk({ stat: -1 })},${rxpk({ tmst: 1 })}]}`,
    );
    expect(p.rxpk.map((o) => o.status)).toEqual(['ok', 'invalid', 'invalid', 'bad-crc', 'ok']);
    expect(p.rxpk[2]).toMatchObject({
      index: 2,
      reason: expect.stringMatching(/rxpk\[2\] must be an object/),
    });
  });

  it('keeps the frames when stat is broken, and says why', () => {
    const p = pushData(`{"rxpk":[${rxpk()}],"stat":{"rxnb":-1}}`);
    expect(p.rxpk[0]!.status).toBe('ok');
    expect(p.stat).toBeUndefined();
    expect(p.statError).toMatch(/stat\.rxnb/);
  });

  it('never throws from one rxpk entry, whatever its JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          const p = pushData(JSON.stringify({ rxpk: [value] }));
          expect(p.rxpk).toHaveLength(1);
        } catch (err) {
          // Only the datagram-level JSON can fail (e.g. a huge nesting); never the entry itself.
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
