import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayStats, RadioUplink } from '../../proto/radio.js';
import { SerialConcentratorEmulator } from '../../simulator/serial-concentrator.js';
import { createMockSerialLink, type MockSerialLink } from '../../simulator/serial-concentrator-mock-link.js';
import { waitFor, waitState } from '../../test/helpers/radio-wait.js';
import { SerialConcentratorBackend } from './serial-concentrator.js';

const EUI = '0102030405060708';
const phy = Uint8Array.from([0x40, 1, 2, 3, 4, 0x80, 9, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0, 0]);

let backend: SerialConcentratorBackend | undefined;
let emulator: SerialConcentratorEmulator | undefined;

afterEach(async () => {
  await backend?.stop();
  emulator?.close();
  backend = undefined;
  emulator = undefined;
});

function nextUplink(b: SerialConcentratorBackend): Promise<RadioUplink> {
  return waitFor<RadioUplink>((done) => b.once('uplink', done), 'an uplink');
}

async function setUp(
  emulatorOptions = {},
  backendOptions: { heartbeatMs?: number } = {},
): Promise<{ link: MockSerialLink; b: SerialConcentratorBackend; e: SerialConcentratorEmulator }> {
  const link = createMockSerialLink('serial-backend');
  const e = new SerialConcentratorEmulator(emulatorOptions);
  e.attach(link.deviceSide);
  const b = new SerialConcentratorBackend({
    path: link.path,
    gatewayEui: EUI.toUpperCase(),
    binding: link.binding,
    reconnect: { initialMs: 20, maxMs: 100 },
    heartbeatMs: backendOptions.heartbeatMs ?? 100,
    txAckTimeoutMs: 300,
  });
  backend = b;
  emulator = e;
  await b.start();
  await waitState(b, 'up');
  return { link, b, e };
}

describe('SerialConcentratorBackend over the mock binding', () => {
  it('comes up when the MCU answers HELLO and reports its firmware', async () => {
    const { b } = await setUp({ firmware: { major: 3, minor: 1, patch: 4 } });
    expect(b.state).toBe('up');
    expect(b.firmware?.firmware).toEqual({ major: 3, minor: 1, patch: 4 });
  });

  it('emits uplinks with the exact metadata of the RXPK, GPS time included', async () => {
    const { b, e } = await setUp();
    const got = nextUplink(b);
    e.sendUplink(phy, {
      tmst: 0xfffffff0,
      frequencyHz: 867_500_000,
      channel: 5,
      rfChain: 1,
      dataRate: { modulation: 'LORA', spreadingFactor: 10, bandwidthKHz: 125 },
      codingRate: '4/6',
      rssi: -118,
      snr: -12.25,
      tmms: 1_300_000_000_000,
    });
    const up = await got;
    expect([...up.phyPayload]).toEqual([...phy]);
    expect(up.rx).toEqual({
      gatewayEui: EUI,
      tmst: 0xfffffff0,
      frequencyHz: 867_500_000,
      channel: 5,
      rfChain: 1,
      dataRate: { modulation: 'LORA', spreadingFactor: 10, bandwidthKHz: 125 },
      codingRate: '4/6',
      rssi: -118,
      snr: -12.25,
      tmms: 1_300_000_000_000,
      // 1.3e12 ms after 1980-01-06 minus 18 leap seconds
      time: new Date(315_964_800_000 + 1_300_000_000_000 - 18_000).toISOString(),
      backend: 'serial',
    });
  });

  it('drops CRC-bad packets and line noise, counting both, and keeps decoding', async () => {
    const { b, e } = await setUp();
    e.sendUplink(phy, { crc: 'bad' });
    e.writeRaw(Uint8Array.from([0x42, 0x42, 0x42, 0x00]));
    const got = nextUplink(b);
    e.sendUplink(phy, { rssi: -42 });
    expect((await got).rx.rssi).toBe(-42);
    expect(b.counters().uplinksCrcBad).toBe(1);
    expect(b.counters().framesBadFraming + b.counters().framesBadChecksum).toBeGreaterThanOrEqual(1);
  });

  it('schedules a downlink: OK from the MCU, TOO_LATE reaches the promise, silence is TIMEOUT', async () => {
    // A slow heartbeat: the link is declared dead only after 3 s of silence, so the unanswered
    // downlink meets its 300 ms TX_ACK timeout first however loaded the machine is.
    const { b, e } = await setUp({}, { heartbeatMs: 1_000 });
    const downlink = waitFor<unknown>((done) => e.once('downlink', done), 'downlink');
    const base = {
      gatewayEui: EUI,
      frequencyHz: 869_525_000,
      powerDbm: 14,
      dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 } as const,
      codingRate: '4/5',
      invertPolarity: true,
      phyPayload: phy,
    };
    const ok = await b.schedule({ ...base, tmst: (e.nowTmst() + 500_000) >>> 0, id: 7 });
    expect(ok).toEqual({ gatewayEui: EUI, status: 'OK', id: 7 });
    expect(await downlink).toMatchObject({
      id: 7,
      frequencyHz: 869_525_000,
      powerDbm: 14,
      invertPolarity: true,
    });
    const late = await b.schedule({ ...base, tmst: (e.nowTmst() - 1_000) >>> 0, id: 8 });
    expect(late.status).toBe('TOO_LATE');
    e.setTxAckStatus('TX_FREQ');
    expect((await b.schedule({ ...base, id: 9 })).status).toBe('TX_FREQ');
    e.respond = false;
    expect((await b.schedule({ ...base, id: 10 })).status).toBe('TIMEOUT');
    expect((await b.schedule({ ...base, gatewayEui: 'ffffffffffffffff' })).status).toBe('NO_ROUTE');
  });

  it('goes down when the MCU stops answering and up again when it answers', async () => {
    const { b, e } = await setUp();
    e.respond = false;
    await waitState(b, 'down');
    expect(
      (
        await b.schedule({
          gatewayEui: EUI,
          frequencyHz: 869_525_000,
          powerDbm: 14,
          dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 },
          codingRate: '4/5',
          invertPolarity: true,
          phyPayload: phy,
        })
      ).status,
    ).toBe('NO_ROUTE');
    e.respond = true;
    await waitState(b, 'up');
  });

  it('survives unplug and replug by itself, and uplinks flow again', async () => {
    const { b, e, link } = await setUp();
    const reconnecting = waitState(b, 'reconnecting');
    link.unplug();
    await reconnecting;
    await new Promise((r) => setTimeout(r, 150)); // a few failed reopen attempts
    expect(b.counters().openFailures).toBeGreaterThanOrEqual(1);
    link.replug();
    await waitState(b, 'up');
    const got = nextUplink(b);
    e.sendUplink(phy, { rssi: -77 });
    expect((await got).rx.rssi).toBe(-77);
    expect(b.counters().disconnects).toBe(1);
  });

  it('turns STAT into a stats event and refuses timed TX when the MCU has no timed-TX capability', async () => {
    const { b, e } = await setUp({ capabilities: { timedTx: false } });
    e.sendUplink(phy);
    const stats = waitFor<GatewayStats>((done) => b.once('stats', done), 'stats');
    e.sendStat();
    expect(await stats).toMatchObject({
      gatewayEui: EUI,
      rxReceived: 1,
      rxOk: 1,
      rxForwarded: 1,
      ackRatio: 100,
      downlinksReceived: 0,
      txEmitted: 0,
    });
    const timed = await b.schedule({
      gatewayEui: EUI,
      tmst: e.nowTmst(),
      frequencyHz: 869_525_000,
      powerDbm: 14,
      dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 },
      codingRate: '4/5',
      invertPolarity: true,
      phyPayload: phy,
    });
    expect(timed.status).toBe('UNSUPPORTED');
  });

  it('rejects a malformed gateway EUI with a config error', () => {
    expect(() => new SerialConcentratorBackend({ path: '/dev/null', gatewayEui: 'nope' })).toThrow(/16 hex/);
  });
});
