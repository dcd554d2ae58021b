/**
 * One regional ack key for a test process: what the regional transport signs
 * with (`testAckSigner`) and what gateways verify against
 * (`testRegionalPublicKey`, or a PEM file from `writeTestRegionalPublicKey`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { publicKeyToPem } from '../../proto/bundle/pem.js';
import type { AckSigner } from '../../regional/ack.js';

const secretKey = randomSecretKey();
export const testRegionalPublicKey = publicKeyOf(secretKey);
export const testAckSigner: AckSigner = {
  key: { kid: keyIdOf(testRegionalPublicKey), secretKey },
  issuer: 'test-regional',
};

/** Writes the public key as PEM into `dir` and returns the file's path. */
export function writeTestRegionalPublicKey(dir: string): string {
  const file = join(dir, 'regional-node.pub');
  writeFileSync(file, publicKeyToPem(testRegionalPublicKey));
  return file;
}
