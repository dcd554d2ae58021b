/**
 * Strict verification edge cases. ed25519Verify runs one OpenSSL verification
 * plus byte checks; each case here is a signature OpenSSL alone would (or
 * would not) take, built with noble's point arithmetic, and the oracle is
 * noble's strict verifier (`zip215: false`): ours must refuse everything it
 * refuses and every case below. Where a case is one OpenSSL accepts, the test
 * shows that too, so the byte check it relies on is proven necessary.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ed25519Sign,
  ed25519Verify,
  ed25519VerifyNoble,
  publicKeyOf,
  randomSecretKey,
  strictPublicKeyProblem,
} from './ed25519.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array): bigint => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
const withSignBit = (bytes: Uint8Array): Uint8Array => {
  const out = bytes.slice();
  out[31] = (out[31] as number) | 0x80;
  return out;
};
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint =>
  fromLe(new Uint8Array(createHash('sha512').update(r).update(a).update(m).digest())) % L;

/** OpenSSL's verdict alone (what ed25519Verify ran before its byte checks); false when it will not take the key. */
function opensslAccepts(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * A signature that satisfies sB = R + hA for a small-order key A (its
 * discrete log is unknown, but hA only depends on h mod the order): guesses
 * h mod 8, builds R from the guess, keeps it when the hash agrees.
 */
function forgeForSmallOrderKey(keyBytes: Uint8Array, message: Uint8Array): Uint8Array {
  const A = ed.Point.fromBytes(keyBytes, true);
  for (let attempt = 1; attempt < 500; attempt++) {
    const s = (BigInt(attempt) * 7919n) % L;
    const guess = BigInt(attempt % 8);
    let hA = ed.Point.ZERO;
    for (let i = 0n; i < guess; i++) hA = hA.add(A);
    const R = ed.Point.BASE.multiply(s).subtract(hA).toBytes();
    const h = challenge(R, keyBytes, message);
    let check = ed.Point.ZERO;
    for (let i = 0n; i < h % 8n; i++) check = check.add(A);
    if (check.equals(hA)) return new Uint8Array([...R, ...le(s)]);
  }
  throw new Error('no forgery found (cannot happen: a guess is right 1 time in 8 on average)');
}

/** The 8 points of small order: multiples of an order-8 point (the torsion group is cyclic of order 8). */
function smallOrderPoints(): InstanceType<typeof ed.Point>[] {
  const order8 = ed.Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  const points = [ed.Point.ZERO];
  for (let i = 1; i < 8; i++) points.push((points[i - 1] as InstanceType<typeof ed.Point>).add(order8));
  return points;
}

describe('ed25519Verify: strict RFC 8032 on OpenSSL with byte checks', () => {
  const message = new TextEncoder().encode('a bundle of a farm hour');
  const secret = randomSecretKey();
  const publicKey = publicKeyOf(secret);

  it('signs with the same bytes as noble (RFC 8032 is deterministic), and a wrong-sized key is refused', () => {
    for (const m of [message, new Uint8Array(0), new Uint8Array(5000).fill(7)])
      expect(Buffer.from(ed25519Sign(m, secret))).toEqual(Buffer.from(ed.sign(m, secret)));
    expect(() => ed25519Sign(message, secret.subarray(1))).toThrow(/32 bytes/);
  });

  it('derives the public key on OpenSSL with the bytes noble derives (RFC 8032 test 1, random seeds), and refuses a wrong-sized seed', () => {
    const rfcSeed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    expect(Buffer.from(publicKeyOf(rfcSeed)).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        expect(Buffer.from(publicKeyOf(seed))).toEqual(Buffer.from(ed.getPublicKey(seed)));
      }),
      { numRuns: 200 },
    );
    expect(() => publicKeyOf(new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('accepts a real signature, and refuses it on another message or key', () => {
    const signature = ed25519Sign(message, secret);
    expect(ed25519Verify(signature, message, publicKey)).toBe(true);
    expect(ed25519Verify(signature, message.subarray(1), publicKey)).toBe(false);
    expect(ed25519Verify(signature, message, publicKeyOf(randomSecretKey()))).toBe(false);
  });

  it('the small-order set is all 8 torsion points, each refused as a key (both sign bits)', () => {
    const points = smallOrderPoints();
    expect(new Set(points.map((p) => p.toHex())).size).toBe(8);
    expect(points[1]?.multiply(8n, false).is0()).toBe(true);
    expect(points[1]?.multiply(4n, false).is0()).toBe(false);
    for (const point of points) {
      expect(point.isSmallOrder()).toBe(true);
      expect(strictPublicKeyProblem(point.toBytes())).toBe('small-order');
      expect(strictPublicKeyProblem(withSignBit(point.toBytes()))).toBe('small-order');
    }
    expect(strictPublicKeyProblem(publicKey)).toBeUndefined();
  });

  it('a forged signature under each small-order key: OpenSSL takes it, strict verification does not', () => {
    let opensslTook = 0;
    for (const point of smallOrderPoints()) {
      const key = point.toBytes();
      const forged = forgeForSmallOrderKey(key, message);
      if (opensslAccepts(forged, message, key)) opensslTook++;
      expect(ed25519VerifyNoble(forged, message, key)).toBe(false);
      expect(ed25519Verify(forged, message, key)).toBe(false);
    }
    // The byte check is what refuses these: OpenSSL alone verifies (at least) the identity's forgery.
    expect(opensslTook).toBeGreaterThan(0);
  });

  it('non-canonical key encodings (y ≥ p, or x = 0 with the sign bit) are refused, though OpenSSL takes them', () => {
    // The identity as y = p + 1, and as y = 1 with the sign bit set: hA is the identity for every h,
    // so R = sB with S = s is a forgery OpenSSL reduces and accepts.
    for (const key of [le(P + 1n), withSignBit(le(1n))]) {
      const s = 123456789n;
      const forged = new Uint8Array([...ed.Point.BASE.multiply(s).toBytes(), ...le(s)]);
      expect(opensslAccepts(forged, message, key)).toBe(true);
      expect(ed25519VerifyNoble(forged, message, key)).toBe(false);
      expect(ed25519Verify(forged, message, key)).toBe(false);
    }
    for (const y of [P, P + 2n, P + 18n, 2n ** 255n - 1n]) {
      expect(strictPublicKeyProblem(le(y))).toBe('non-canonical');
      expect(strictPublicKeyProblem(withSignBit(le(y)))).toBe('non-canonical');
    }
    expect(strictPublicKeyProblem(le(P - 2n))).toBeUndefined();
  });

  it('S ≥ L (a malleated copy of a real signature) is refused', () => {
    const signature = ed25519Sign(message, secret);
    const s = fromLe(signature.subarray(32));
    for (const bigS of [s + L, s + 2n * L].filter((v) => v < 2n ** 256n)) {
      const malleated = new Uint8Array([...signature.subarray(0, 32), ...le(bigS)]);
      expect(ed25519VerifyNoble(malleated, message, publicKey)).toBe(false);
      expect(ed25519Verify(malleated, message, publicKey)).toBe(false);
    }
  });

  it('a non-canonical R is refused, while the same signature with the canonical R verifies', () => {
    // With R the identity and S = h·a, sB - hA is the identity: valid exactly when R is encoded canonically.
    const { scalar } = ed.utils.getExtendedPublicKey(secret);
    const sign = (r: Uint8Array) =>
      new Uint8Array([...r, ...le((challenge(r, publicKey, message) * scalar) % L)]);
    const canonical = sign(le(1n));
    expect(ed25519VerifyNoble(canonical, message, publicKey)).toBe(true);
    expect(ed25519Verify(canonical, message, publicKey)).toBe(true);
    for (const r of [le(P + 1n), withSignBit(le(1n))]) {
      const nonCanonical = sign(r);
      expect(ed25519VerifyNoble(nonCanonical, message, publicKey)).toBe(false);
      expect(ed25519Verify(nonCanonical, message, publicKey)).toBe(false);
    }
  });

  it('malformed lengths and keys that are not points are refused without a throw', () => {
    const signature = ed25519Sign(message, secret);
    expect(ed25519Verify(signature.subarray(1), message, publicKey)).toBe(false);
    expect(ed25519Verify(signature, message, publicKey.subarray(1))).toBe(false);
    // y = 2 has no x on the curve (2² - 1 over 2²d + 1 is not a square mod p).
    expect(() => ed.Point.fromBytes(le(2n))).toThrow();
    expect(ed25519Verify(signature, message, le(2n))).toBe(false);
  });

  it('never looser than noble strict: mutated signatures, keys and messages (property)', () => {
    const signature = ed25519Sign(message, secret);
    fc.assert(
      fc.property(
        fc.constantFrom('signature', 'key', 'message'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (part, at, xor) => {
          const sig = signature.slice();
          const key = publicKey.slice();
          const msg = message.slice();
          const target = part === 'signature' ? sig : part === 'key' ? key : msg;
          target[at % target.length] = (target[at % target.length] as number) ^ xor;
          const ours = ed25519Verify(sig, msg, key);
          if (ours) expect(ed25519VerifyNoble(sig, msg, key)).toBe(true);
          return !ours;
        },
      ),
      { numRuns: 300 },
    );
  });
});
