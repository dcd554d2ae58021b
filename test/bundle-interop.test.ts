/**
 * Acceptance 1 and 3 with npm tools written by others: @auth0/cose verifies
 * the COSE_Sign1 with the PEM key; cbor2's dcbor and CDE (deterministic)
 * decoders accept the payload and the envelope, and reject a non-canonical
 * variant (so the check can fail).
 */
import { createPublicKey } from 'node:crypto';
import { Sign1 } from '@auth0/cose';
import { decode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { signBundle } from '../proto/bundle/bundle.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../proto/bundle/ed25519.js';
import { encodeBundlePayload } from '../proto/bundle/payload.js';
import { publicKeyToPem } from '../proto/bundle/pem.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { DAY_MS, DAY_START_MS, plotReferences, simulatedDay } from './fixtures/bundle-simulated-day.js';

const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const content = {
  seq: 1,
  prevHash: GENESIS_PREV_HASH,
  timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
  plots: plotReferences(true),
  uplinks: simulatedDay(),
};

describe('@auth0/cose', () => {
  it('verifies our COSE_Sign1 with the PEM public key, and rejects a tampered payload', async () => {
    const payload = encodeBundlePayload({ ...content, compress: true });
    const cose = signBundle(
      payload,
      { kid: keyIdOf(publicKey), secretKey },
      { iss: 'gw', sub: 'farm', iat: 1 },
    );
    const key = createPublicKey(publicKeyToPem(publicKey));
    const message = Sign1.decode(cose);
    await expect(message.verify(key)).resolves.toBeUndefined();
    expect(Buffer.from(message.payload).equals(Buffer.from(payload))).toBe(true);

    const tampered = cose.slice();
    tampered[tampered.length - 80] = (tampered[tampered.length - 80] as number) ^ 0x40;
    await expect(Sign1.decode(tampered).verify(key)).rejects.toThrow();
  });
});

describe('cbor2 deterministic decoding', () => {
  for (const compress of [false, true]) {
    it(`accepts the payload (compress=${compress}) under dcbor and cde`, () => {
      const payload = encodeBundlePayload({ ...content, compress });
      const a = encodeBundlePayload({ ...content, uplinks: [...content.uplinks].reverse(), compress });
      expect(Buffer.from(a).equals(Buffer.from(payload))).toBe(true);
      expect(() => decode(payload, { dcbor: true })).not.toThrow();
      expect(() => decode(payload, { cde: true })).not.toThrow();
    });
  }

  it('accepts the whole envelope under cde, and its checker rejects a non-canonical variant', () => {
    const payload = encodeBundlePayload({ ...content, compress: true });
    const cose = signBundle(
      payload,
      { kid: keyIdOf(publicKey), secretKey },
      { iss: 'gw', sub: 'farm', iat: 1 },
    );
    expect(() => decode(cose, { cde: true })).not.toThrow();
    // version 1 written as 0x18 0x01 instead of 0x01: same value, non-shortest form
    const nonCanonical = Uint8Array.of(payload[0] as number, 0x00, 0x18, 0x01, ...payload.slice(3));
    expect(() => decode(nonCanonical, { cde: true })).toThrow();
  });
});
