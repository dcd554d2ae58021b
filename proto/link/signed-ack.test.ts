import { createPublicKey } from 'node:crypto';
import { Sign1 } from '@auth0/cose';
import { decode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { signSign1 } from '../bundle/cose.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../bundle/ed25519.js';
import { publicKeyToPem } from '../bundle/pem.js';
import { ErrorCode, isMaverickError } from '../errors.js';
import { ACK_CONTENT_TYPE, signAck, verifyAck } from './signed-ack.js';

function keyPair() {
  const secretKey = randomSecretKey();
  const publicKey = publicKeyOf(secretKey);
  return { publicKey, signing: { kid: keyIdOf(publicKey), secretKey } };
}

const regional = keyPair();
const header = { issuer: 'regional-1', gatewayId: 'gw-1', iat: 1_780_000_000 };
const digest = 'ab'.repeat(32);

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return isMaverickError(err) ? err.code : -1;
  }
  return undefined;
}

describe('signed acks', () => {
  it('round-trips every verdict and names the gateway, issuer and time', () => {
    const accepted = verifyAck(
      signAck({ digest, status: 'accepted', seq: 7 }, regional.signing, header),
      regional.publicKey,
      'gw-1',
    );
    expect(accepted).toEqual({
      gatewayId: 'gw-1',
      issuer: 'regional-1',
      iat: header.iat,
      digest,
      status: 'accepted',
      seq: 7,
    });
    const rejected = verifyAck(
      signAck(
        { digest, status: 'rejected', reason: 'BundleUnknownKey', transient: true },
        regional.signing,
        header,
      ),
      regional.publicKey,
      'gw-1',
    );
    expect(rejected).toMatchObject({ status: 'rejected', reason: 'BundleUnknownKey', transient: true });
  });

  it('is a COSE_Sign1 that an independent library verifies, with the payload ACK.md describes', async () => {
    const bytes = signAck(
      { digest, status: 'rejected', seq: 3, reason: 'RegionalChain', transient: false },
      regional.signing,
      header,
    );
    const message = Sign1.decode(bytes);
    await expect(
      message.verify(createPublicKey(publicKeyToPem(regional.publicKey))),
    ).resolves.toBeUndefined();
    const payload = decode(message.payload) as Map<number, unknown>;
    expect([...payload.keys()]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(payload.get(0)).toBe(1);
    expect(Buffer.from(payload.get(1) as Uint8Array).toString('hex')).toBe(digest);
    expect(payload.get(2)).toBe('rejected');
    expect(payload.get(3)).toBe(3);
    expect(payload.get(4)).toBe('RegionalChain');
    expect(payload.get(5)).toBe(false);
    expect(bytes.length).toBeLessThan(260);
  });

  it('refuses an ack signed by any other key, a tampered one, and one for another gateway', () => {
    const mallory = keyPair();
    const forged = signAck({ digest, status: 'accepted' }, mallory.signing, header);
    expect(codeOf(() => verifyAck(forged, regional.publicKey, 'gw-1'))).toBe(ErrorCode.BundleUnknownKey);
    // Mallory's key under the regional node's kid: the signature is what fails.
    const spoofedKid = signAck(
      { digest, status: 'accepted' },
      { kid: regional.signing.kid, secretKey: mallory.signing.secretKey },
      header,
    );
    expect(codeOf(() => verifyAck(spoofedKid, regional.publicKey, 'gw-1'))).toBe(
      ErrorCode.BundleBadSignature,
    );
    const good = signAck({ digest, status: 'accepted' }, regional.signing, header);
    const tampered = good.slice();
    tampered[tampered.length - 70] = (tampered[tampered.length - 70] as number) ^ 1;
    expect(codeOf(() => verifyAck(tampered, regional.publicKey, 'gw-1'))).toBeDefined();
    expect(codeOf(() => verifyAck(good, regional.publicKey, 'gw-2'))).toBe(ErrorCode.WireBadField);
    expect(codeOf(() => verifyAck(new TextEncoder().encode('{"v":1}'), regional.publicKey, 'gw-1'))).toBe(
      ErrorCode.BundleMalformed,
    );
  });

  it('refuses other documents signed by the same key and acks that break the rules', () => {
    const notAnAck = signSign1(
      new Uint8Array([0xa0]),
      regional.signing,
      'application/vnd.maverick.bundle+cbor',
      {
        iss: 'r',
        sub: 'gw-1',
        iat: 1,
      },
    );
    expect(codeOf(() => verifyAck(notAnAck, regional.publicKey, 'gw-1'))).toBe(ErrorCode.WireBadField);
    const noReason = signSign1(
      new Uint8Array([
        0xa3,
        0x00,
        0x01,
        0x01,
        0x58,
        0x20,
        ...new Uint8Array(32),
        0x02,
        0x68,
        ...Buffer.from('rejected'),
      ]),
      regional.signing,
      ACK_CONTENT_TYPE,
      { iss: 'r', sub: 'gw-1', iat: 1 },
    );
    expect(codeOf(() => verifyAck(noReason, regional.publicKey, 'gw-1'))).toBe(ErrorCode.WireBadField);
    expect(codeOf(() => signAck({ digest, status: 'rejected' }, regional.signing, header))).toBe(
      ErrorCode.WireBadField,
    );
    expect(
      codeOf(() =>
        signAck({ digest, status: 'accepted', reason: 'x', transient: false }, regional.signing, header),
      ),
    ).toBe(ErrorCode.WireBadField);
  });
});
