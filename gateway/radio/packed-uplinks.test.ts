import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RadioUplink } from '../../proto/radio.js';
import { packedCost, UplinkPacker, unpackUplinks } from './packed-uplinks.js';

const uplinkArb: fc.Arbitrary<RadioUplink> = fc.record({
  phyPayload: fc.uint8Array({ minLength: 1, maxLength: 255 }),
  receivedAtMs: fc.integer({ min: 0, max: 2 ** 42 }),
  rx: fc.record({
    gatewayEui: fc.constant('b827ebfffe00be01'),
    backend: fc.constant('semtech-udp'),
    tmst: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    frequencyHz: fc.integer({ min: 400_000_000, max: 1_000_000_000 }),
    channel: fc.nat(64),
    rfChain: fc.nat(1),
    rssi: fc.integer({ min: -140, max: 0 }),
    snr: fc.double({ min: -20, max: 15, noNaN: true }),
    crcStatus: fc.constantFrom('ok' as const, 'bad' as const),
    time: fc.option(fc.constant('2026-12-05T03:45:55.123456Z'), { nil: undefined }),
    dataRate: fc.record({
      modulation: fc.constant('LORA' as const),
      spreadingFactor: fc.integer({ min: 7, max: 12 }),
      bandwidthKHz: fc.constantFrom(125, 250, 500),
    }),
    codingRate: fc.constant('4/5'),
  }),
}) as fc.Arbitrary<RadioUplink>;

describe('packed uplinks', () => {
  it('unpack gives back every uplink packed, in order, each PHYPayload a copy of its own', () => {
    fc.assert(
      fc.property(fc.array(uplinkArb, { minLength: 1, maxLength: 40 }), (uplinks) => {
        const packer = new UplinkPacker();
        // Buffers, as the socket hands them over, and plain Uint8Arrays both come back as Uint8Array.
        for (const [i, u] of uplinks.entries()) {
          packer.add(i % 2 ? { ...u, phyPayload: Buffer.from(u.phyPayload) } : u);
        }
        expect(packer.count).toBe(uplinks.length);
        expect(packer.bytes).toBe(uplinks.reduce((sum, u) => sum + packedCost(u), 0));
        const { packed, count } = packer.take();
        expect(packer.count).toBe(0);
        expect(packer.bytes).toBe(0);
        const back = unpackUplinks(packed, count);
        expect(back).toEqual(uplinks.map((u) => ({ ...u, phyPayload: new Uint8Array(u.phyPayload) })));
        for (const u of back) {
          expect(u.phyPayload.buffer).not.toBe(packed.buffer);
          expect(u.phyPayload.byteLength).toBe(u.phyPayload.buffer.byteLength);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('never takes more bytes than packedCost() says (the bound on the waiting uplinks relies on it)', () => {
    fc.assert(
      fc.property(fc.array(uplinkArb, { minLength: 1, maxLength: 40 }), (uplinks) => {
        const packer = new UplinkPacker();
        for (const u of uplinks) packer.add(u);
        const estimate = packer.bytes;
        expect(packer.take().packed.byteLength).toBeLessThanOrEqual(estimate);
      }),
      { numRuns: 100 },
    );
  });
});
