/**
 * Secrets in files of their own, mode 0600, never in a config file or on a
 * command line (where `ps` shows them): used by the gateway and the regional node.
 */
import { readFileSync, statSync } from 'node:fs';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { writeFileAtomic } from './atomic-file.js';

/** Atomically writes a secret file with mode 0600 (never readable by others, not even briefly). */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  if (secret.length === 0 || /[\r\n]/.test(secret)) {
    throw new MaverickError(ErrorCode.CliUsage, 'a password must be one non-empty line', {
      hint: 'pick a password without line breaks',
    });
  }
  await writeFileAtomic(path, `${secret}\n`, 0o600);
}

/** Reads a secret file, refusing one that group or others can read. */
export function readSecretFile(
  path: string,
  recreate = 'run maverick init --force to write a new one',
): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MaverickError(
      ErrorCode.SecretMissing,
      `cannot read secret file ${path}: ${(err as Error).message}`,
      {
        hint: `${recreate}, or restore it from backup`,
        cause: err,
      },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new MaverickError(
      ErrorCode.KeyFilePermissions,
      `secret file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${path}` },
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) {
    throw new MaverickError(ErrorCode.SecretMissing, `secret file ${path} is empty`, { hint: recreate });
  }
  return secret;
}
