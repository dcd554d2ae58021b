import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RadioUplink, TxRequest } from '../../proto/radio.js';
import { createMockSerialLink, type MockSerialLink } from '../../simulator/serial-concentrator-mock-link.js';
import { type P2pDownlink, Rak3172Emulator } from '../../simulator/single-channel.js';
import { waitFor, waitState } from '../../test/helpers/radio-wait.js';
import { SingleChannelBackend } from './single-channel.js';
import { AtChannel, MAX_LINE, parseRxP2pEvent } from './single-channel-at.js';

const EUI = 'aabbccddeeff0011';
const phy = Uint8Array.from([0x40, 9, 8, 7, 6, 0, 3, 0, 1, 0x55, 0x66, 1, 2, 3, 4]);
let backend: SingleChannelBackend | undefined;

afterEach(async () => {
  await backend?.stop();
  backend = undefined;
});

async function setUp(): Promise<{ b: SingleChannelBackend; e: Rak3172Emulator; link: MockSerialLink }> {
  const link = createMockSerialLink('rak3172');
  const e = new Rak3172Emulator();
  e.attach(link.deviceSide);
  const b = new SingleChannelBackend({
    path: link.path,
    gatewayEui: EUI,
    binding: link.binding,
    frequencyHz: 868_100_000,
    spreadingFactor: 9,
    reconnect: { initialMs: 20, maxMs: 100 },
    commandTimeoutMs: 200,
    heartbeatMs: 100,
  });
  backend = b;
  await b.start();
  await waitState(b, 'up');
  return { b, e, link };
}

const downlink: TxRequest = {
  gatewayEui: EUI,
  frequencyHz: 869_525_000,
  powerDbm: 14,
  dataRate: { modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 125 },
  codingRate: '4/5',
  invertPolarity: true,
  phyPayload: phy,
};

describe('SingleChannelBackend (RAK3172 RUI3 P2P) over the mock binding', () => {
  it('declares itself unable to time downlinks', () => {
    const b = new SingleChannelBackend({ path: '/dev/null', gatewayEui: EUI, frequencyHz: 868_100_000 });
    expect(b.capabilities).toEqual({ downlink: true, timedDownlink: false });
    expect(b.kind).toBe('single-channel');
  });

  it('puts the modem in continuous P2P receive with LoRaWAN sync word and normal IQ', async () => {
    const { e } = await setUp();
    expect(e.networkMode).toBe(0);
    expect(e.receiveMode).toBe(65534);
    expect(e.syncWord).toBe('3444');
    expect(e.invertIq).toBe(false);
    expect(e.settings).toMatchObject({
      frequencyHz: 868_100_000,
      spreadingFactor: 9,
      bandwidthKHz: 125,
      codingRate: 0,
    });
  });

  it('turns +EVT:RXP2P lines into uplinks with a host-clock tmst', async () => {
    const { b, e } = await setUp();
    const got = waitFor<RadioUplink>((done) => b.once('uplink', done), 'uplink');
    const before = b.nowTmst();
    e.sendUplink(phy, { rssi: -97, snr: -3 });
    const up = await got;
    expect([...up.phyPayload]).toEqual([...phy]);
    expect(up.rx).toMatchObject({
      gatewayEui: EUI,
      frequencyHz: 868_100_000,
      channel: 0,
      rfChain: 0,
      dataRate: { modulation: 'LORA', spreadingFactor: 9, bandwidthKHz: 125 },
      codingRate: '4/5',
      rssi: -97,
      snr: -3,
      backend: 'single-channel',
    });
    expect((up.rx.tmst - before) >>> 0).toBeLessThan(1_000_000);
  });

  it('sends a best-effort downlink with inverted IQ, then resumes listening', async () => {
    const { b, e } = await setUp();
    const sent = waitFor<P2pDownlink>((done) => e.once('downlink', done), 'downlink');
    const ack = await b.schedule({ ...downlink, id: 3 });
    expect(ack).toEqual({ gatewayEui: EUI, status: 'OK', id: 3 });
    const d = await sent;
    expect([...d.payload]).toEqual([...phy]);
    expect(d.invertIq).toBe(true);
    expect(d.settings).toMatchObject({ frequencyHz: 869_525_000, spreadingFactor: 12, txPowerDbm: 14 });
    expect(e.receiveMode).toBe(65534);
    expect(e.invertIq).toBe(false);
    expect(e.settings.frequencyHz).toBe(868_100_000);
  });

  it('maps errors: past tmst is TOO_LATE, a busy modem is COLLISION_PACKET, FSK is UNSUPPORTED', async () => {
    const { b, e } = await setUp();
    expect((await b.schedule({ ...downlink, tmst: (b.nowTmst() - 10_000) >>> 0 })).status).toBe('TOO_LATE');
    expect((await b.schedule({ ...downlink, tmst: (b.nowTmst() + 10_000_000) >>> 0 })).status).toBe(
      'TOO_EARLY',
    );
    e.failNextSend('AT_BUSY_ERROR');
    expect((await b.schedule(downlink)).status).toBe('COLLISION_PACKET');
    expect((await b.schedule({ ...downlink, dataRate: { modulation: 'FSK', bitrate: 50_000 } })).status).toBe(
      'UNSUPPORTED',
    );
    expect(e.receiveMode).toBe(65534);
  });

  it('drops an overlong garbage line and keeps working', async () => {
    const { b, e } = await setUp();
    e.writeRaw('Z'.repeat(MAX_LINE * 3));
    e.writeRaw('\r\n');
    const got = waitFor<RadioUplink>((done) => b.once('uplink', done), 'uplink');
    e.sendUplink(phy, { rssi: -50 });
    expect((await got).rx.rssi).toBe(-50);
    expect(b.counters().overlongLines).toBe(1);
  });

  it('goes down when the modem stops answering, reconnects after an unplug', async () => {
    const { b, e, link } = await setUp();
    e.respond = false;
    await waitState(b, 'down');
    e.respond = true;
    await waitState(b, 'up');
    link.unplug();
    await waitState(b, 'reconnecting');
    link.replug();
    await waitState(b, 'up');
    const got = waitFor<RadioUplink>((done) => b.once('uplink', done), 'uplink');
    e.sendUplink(phy, { rssi: -70 });
    expect((await got).rx.rssi).toBe(-70);
  });
});

describe('AT line handling under fuzzing', () => {
  it('parseRxP2pEvent accepts only well-formed events', () => {
    expect(parseRxP2pEvent('+EVT:RXP2P:-28:5:48656C6C6F')).toEqual({
      rssi: -28,
      snr: 5,
      payload: Uint8Array.from([0x48, 0x65, 0x6c, 0x6c, 0x6f]),
    });
    expect(parseRxP2pEvent('+EVT:RXP2P:-28:5:486')).toBeUndefined();
    expect(parseRxP2pEvent('+EVT:RXP2P RECEIVE TIMEOUT')).toBeUndefined();
  });

  it('never throws on 20,000 random byte streams and event-like lines', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc
              .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 }))
              .map(([a, b, c]) => new TextEncoder().encode(`+EVT:RXP2P:${a}:${b}:${c}\r\n`)),
          ),
          { maxLength: 8 },
        ),
        (chunks) => {
          const events: string[] = [];
          const channel = new AtChannel(
            () => true,
            (line) => events.push(line),
            1000,
          );
          for (const c of chunks) channel.push(Buffer.from(c));
          for (const line of events) parseRxP2pEvent(line);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
