/**
 * Reading a secret key file safely: it must exist and be readable by its
 * owner only (mode 0600), or it is refused with the command that fixes it.
 * Shared by the gateway's signing key and the regional node's ack key.
 */
import { readFile, stat } from 'node:fs/promises';
import { secretKeyFromPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Reads a PKCS#8 PEM Ed25519 secret key; `what` names it in errors, `missingHint` says how to get one. */
export async function readSecretKeyFile(
  path: string,
  what: string,
  missingHint: string,
): Promise<Uint8Array> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if (isNotFound(err))
      throw new MaverickError(ErrorCode.KeyMissing, `${what} file ${path} is missing`, { hint: missingHint });
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new MaverickError(
      ErrorCode.KeyFilePermissions,
      `${what} file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${path}` },
    );
  }
  return secretKeyFromPem(await readFile(path, 'utf8'));
}
