/**
 * Broker credentials for gateways, as mosquitto files: a password file in
 * mosquitto's own format (`user:$7$<iterations>$<salt>$<hash>`, PBKDF2-SHA512,
 * what `mosquitto_passwd` writes) and an ACL file in which a gateway, whose
 * username is its gateway id, may publish only under its own up topics and
 * read only its own acks; the regional node's user reads every up topic and
 * writes every ack topic. mosquitto reads both on start and on SIGHUP.
 *
 * EMQX equivalent: built-in database authentication with the same
 * username/password per gateway, and an ACL (file or built-in database)
 *   {allow, all, publish, ["maverick/v1/gw/${username}/up/#"]}
 *   {allow, all, subscribe, ["maverick/v1/gw/${username}/ack"]}
 * plus the regional user's rules, and `{deny, all}` last.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../kernel/keys/atomic-file.js';
import { writeSecretFile } from '../kernel/keys/secret-file.js';
import { assertTopicSafeId, TOPIC_ROOT } from '../proto/link/topics.js';

const ITERATIONS = 101;

/** One password-file line, as mosquitto_passwd writes it. */
export function mosquittoPasswordLine(username: string, password: string, salt = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  return `${username}:$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function mosquittoAcl(regionalUser: string): string {
  return [
    '# Written by maverick regional gateway add. A gateway connects with its gateway id as username.',
    `user ${regionalUser}`,
    `topic read ${TOPIC_ROOT}/+/up/#`,
    `topic write ${TOPIC_ROOT}/+/ack`,
    '',
    `pattern write ${TOPIC_ROOT}/%u/up/#`,
    `pattern read ${TOPIC_ROOT}/%u/ack`,
    '',
  ].join('\n');
}

export interface IssuedCredentials {
  username: string;
  password: string;
  /** The 0600 file holding the password, to hand to the gateway's operator. */
  passwordFile: string;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Adds or replaces `username` in `<dir>/passwd` with a new random password,
 * rewrites `<dir>/acl`, and keeps the password in `<dir>/<username>.password`.
 */
export async function issueBrokerCredentials(
  dir: string,
  username: string,
  options: { regionalUser?: string; password?: string } = {},
): Promise<IssuedCredentials> {
  assertTopicSafeId(username);
  const password = options.password ?? randomBytes(18).toString('base64url');
  const passwd = join(dir, 'passwd');
  const lines = readLines(passwd).filter((l) => !l.startsWith(`${username}:`));
  lines.push(mosquittoPasswordLine(username, password));
  await writeFileAtomic(passwd, `${lines.join('\n')}\n`, 0o600);
  await writeFileAtomic(join(dir, 'acl'), mosquittoAcl(options.regionalUser ?? 'maverick-regional'), 0o600);
  const passwordFile = join(dir, `${username}.password`);
  await writeSecretFile(passwordFile, password);
  return { username, password, passwordFile };
}
