import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../proto/log.js';
import { getRegion } from '../../proto/regions/index.js';
import { FakeRadio } from './fake-radio.test-helpers.js';
import { Transmitter, type WindowPlan } from './transmitter.js';

const region = getRegion('EU868');
const phyPayload = new Uint8Array(51);
const plans: WindowPlan[] = [
  { window: 'rx1', tmst: 1_000_000, frequencyHz: 868_100_000, dr: 0, phyPayload },
  { window: 'rx2', tmst: 2_000_000, frequencyHz: 869_525_000, dr: 0, phyPayload },
];

describe('Transmitter', () => {
  it('moves to RX2 when RX1’s sub-band is used up, drops when both are, and recovers after an hour', async () => {
    let now = 0;
    const radio = new FakeRadio();
    const tx = new Transmitter({ logger: silentLogger, now: () => now });
    let firstRx2: number | undefined;
    for (let i = 0; i < 500; i++) {
      const result = await tx.transmit(radio, 'aa555a0000000001', region, plans);
      if (!result.sent) {
        expect(result.attempts.map((a) => a.status)).toEqual(['DUTY_CYCLE', 'DUTY_CYCLE']);
        break;
      }
      if (result.sent.window === 'rx2' && firstRx2 === undefined) {
        firstRx2 = i;
        expect(result.attempts.map((a) => a.status)).toEqual(['DUTY_CYCLE', 'OK']);
      }
    }
    // SF12, 51 bytes ≈ 2.5 s on air: 1 % of an hour on g1 is ~14 frames, 10 % on g3 ~140 more.
    expect(firstRx2).toBeGreaterThan(5);
    expect(firstRx2).toBeLessThan(30);
    const sentBefore = radio.sent.length;
    expect(sentBefore).toBeGreaterThan(100);
    now = 3_600_001;
    const after = await tx.transmit(radio, 'aa555a0000000001', region, plans);
    expect(after.sent?.window).toBe('rx1');
  });

  it('tries RX2 after a refused RX1, stamps invert polarity, power and a u16 id', async () => {
    const radio = new FakeRadio();
    radio.script.push('TOO_LATE');
    const tx = new Transmitter({ logger: silentLogger });
    const result = await tx.transmit(radio, 'aa555a0000000001', region, plans);
    expect(result.sent?.window).toBe('rx2');
    expect(radio.sent.map((s) => [s.tmst, s.invertPolarity, s.powerDbm, s.codingRate])).toEqual([
      [1_000_000, true, 14, '4/5'],
      [2_000_000, true, 14, '4/5'],
    ]);
    expect(radio.sent[0]?.id).not.toBe(radio.sent[1]?.id);
  });

  it('treats a backend that throws as a timeout', async () => {
    const radio = new FakeRadio();
    radio.schedule = async () => {
      throw new Error('socket closed');
    };
    const result = await new Transmitter({ logger: silentLogger }).transmit(radio, 'g', region, plans);
    expect(result.sent).toBeUndefined();
    expect(result.attempts.map((a) => a.status)).toEqual(['TIMEOUT', 'TIMEOUT']);
  });
});
