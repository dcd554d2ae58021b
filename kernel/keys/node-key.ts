/**
 * A node's single Ed25519 key on disk (the regional node signs its acks with
 * one), in a directory of its own created 0700:
 *   <name>.key   PKCS#8 PEM secret key, mode 0600 from birth (O_EXCL)
 *   <name>.pub   SubjectPublicKeyInfo PEM public key, 0644: the file gateways are given
 * Created on first use; afterwards the pair is loaded and checked to match.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { publicKeyFromPem, publicKeyToPem, secretKeyToPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { writeFileAtomic, writeFileExclusive } from './atomic-file.js';
import { isNotFound, readSecretKeyFile } from './secret-key-file.js';

export interface NodeKey {
  kid: Uint8Array;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  /** Where the public half is, for the operator to hand out. */
  publicKeyFile: string;
  /** True when this call created the pair. */
  created: boolean;
}

export function nodeKeyFiles(dir: string, name: string): { secret: string; public: string } {
  return { secret: join(dir, `${name}.key`), public: join(dir, `${name}.pub`) };
}

/** Loads `<dir>/<name>.key`, creating the pair (dir 0700, key 0600) when there is none yet. */
export async function loadOrCreateNodeKey(dir: string, name: string): Promise<NodeKey> {
  const files = nodeKeyFiles(dir, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    const fresh = randomSecretKey();
    await writeFileExclusive(files.secret, secretKeyToPem(fresh), 0o600);
    await writeFileAtomic(files.public, publicKeyToPem(publicKeyOf(fresh)), 0o644);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secretKey = await readSecretKeyFile(
    files.secret,
    `${name} key`,
    `restore it from backup, or delete ${files.public} too and restart to make a new key (gateways then need the new public key)`,
  );
  const publicKey = publicKeyOf(secretKey);
  let written: Uint8Array | undefined;
  try {
    written = publicKeyFromPem(await readFile(files.public, 'utf8'));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!written) {
    await writeFileAtomic(files.public, publicKeyToPem(publicKey), 0o644);
  } else if (Buffer.compare(Buffer.from(written), Buffer.from(publicKey)) !== 0) {
    throw new MaverickError(
      ErrorCode.KeyInvalid,
      `${files.public} does not hold the public half of ${files.secret}`,
      { hint: `delete ${files.public}; it is rewritten from the secret key at the next start` },
    );
  }
  return { kid: keyIdOf(publicKey), publicKey, secretKey, publicKeyFile: files.public, created };
}
