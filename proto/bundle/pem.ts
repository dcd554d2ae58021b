/**
 * Ed25519 public keys as SubjectPublicKeyInfo PEM (RFC 8410 §4, RFC 7468 §13),
 * the form `openssl pkey -pubin` and Python's `cryptography` read.
 * The DER is fixed-length for Ed25519, so it is built from its known prefix
 * rather than a general ASN.1 encoder.
 */
import { ErrorCode, MaverickError } from '../errors.js';

/** SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) 32 bytes } */
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
/** PKCS#8 OneAsymmetricKey v0 { algorithm id-Ed25519, privateKey OCTET STRING { OCTET STRING 32 bytes } } (RFC 8410 §7) */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string, label: string, prefix: Uint8Array, what: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) {
    throw new MaverickError(ErrorCode.KeyInvalid, `not a PEM ${label} block`, {
      hint: `expected the ${what} written by \`maverick keys export-public\``,
    });
  }
  const der = new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
  const expected = prefix.length + 32;
  if (der.length !== expected || !prefix.every((byte, i) => der[i] === byte)) {
    throw new MaverickError(ErrorCode.KeyInvalid, `PEM ${label} is not an Ed25519 ${what}`, {
      hint: 'only Ed25519 (OID 1.3.101.112) keys are supported',
    });
  }
  return der.slice(prefix.length);
}

export function publicKeyToPem(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) {
    throw new MaverickError(
      ErrorCode.KeyInvalid,
      `an Ed25519 public key is 32 bytes, got ${publicKey.length}`,
    );
  }
  const der = new Uint8Array(SPKI_ED25519_PREFIX.length + 32);
  der.set(SPKI_ED25519_PREFIX);
  der.set(publicKey, SPKI_ED25519_PREFIX.length);
  return toPem('PUBLIC KEY', der);
}

export function publicKeyFromPem(pem: string): Uint8Array {
  return fromPem(pem, 'PUBLIC KEY', SPKI_ED25519_PREFIX, 'public key');
}

export function secretKeyToPem(secretKey: Uint8Array): string {
  if (secretKey.length !== 32) {
    throw new MaverickError(
      ErrorCode.KeyInvalid,
      `an Ed25519 secret key is 32 bytes, got ${secretKey.length}`,
    );
  }
  const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  der.set(PKCS8_ED25519_PREFIX);
  der.set(secretKey, PKCS8_ED25519_PREFIX.length);
  return toPem('PRIVATE KEY', der);
}

export function secretKeyFromPem(pem: string): Uint8Array {
  return fromPem(pem, 'PRIVATE KEY', PKCS8_ED25519_PREFIX, 'private key');
}
