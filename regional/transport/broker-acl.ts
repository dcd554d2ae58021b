/**
 * Gateway confinement on the embedded broker, the same rules as the mosquitto
 * ACL that `maverick regional gateway add --broker-dir` writes
 * (regional/broker-credentials.ts):
 *   - a gateway logs in with its gateway id as username and the password in
 *     `<dir>/passwd` (mosquitto's `$7$` PBKDF2-SHA512 lines, so one file
 *     serves both brokers);
 *   - it may publish only under maverick/v1/gw/<its id>/up/<kind> and
 *     subscribe only to maverick/v1/gw/<its id>/ack;
 *   - the regional node's user subscribes to the up topics (shared or not)
 *     and publishes acks.
 * The password file is read again when it changes, so `gateway add` takes
 * effect without a restart.
 */
import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ackTopic, parseAckTopic, parseUpTopic, TOPIC_ROOT, UP_FILTER } from '../../proto/link/topics.js';
import { type Logger, silentLogger } from '../../proto/log.js';

interface PasswordEntry {
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parses one `$7$<iterations>$<salt b64>$<hash b64>` hash; undefined for anything else. */
export function parseMosquittoHash(text: string): PasswordEntry | undefined {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2] as string, 'base64');
  const hash = Buffer.from(m[3] as string, 'base64');
  if (iterations < 1 || salt.length === 0 || hash.length !== 64) return undefined;
  return { iterations, salt, hash };
}

export function verifyMosquittoPassword(entry: PasswordEntry, password: Buffer): boolean {
  const derived = pbkdf2Sync(password, entry.salt, entry.iterations, 64, 'sha512');
  return timingSafeEqual(derived, entry.hash);
}

/**
 * The gateways' password file, read again whenever it changes: its inode, size or modification
 * time. The modification time alone missed a second `gateway add` within one tick of the
 * kernel's coarse file clock (a few ms): the file is replaced by a rename, so the inode changes
 * even when the time does not.
 */
export class GatewayPasswords {
  private entries = new Map<string, PasswordEntry>();
  private loadedVersion = '';
  private readonly log: Logger;

  constructor(
    readonly file: string,
    logger: Logger = silentLogger,
  ) {
    this.log = logger;
    this.reload();
  }

  private reload(): void {
    let version: string;
    try {
      const stat = statSync(this.file);
      version = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      if (this.entries.size > 0)
        this.log.warn({ file: this.file }, 'gateway password file is gone; no gateway may log in');
      this.entries = new Map();
      this.loadedVersion = '';
      return;
    }
    if (version === this.loadedVersion) return;
    const entries = new Map<string, PasswordEntry>();
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      const at = line.indexOf(':');
      if (line.trim() === '' || at < 1) continue;
      const entry = parseMosquittoHash(line.slice(at + 1).trim());
      if (entry) entries.set(line.slice(0, at), entry);
      else
        this.log.warn({ file: this.file, user: line.slice(0, at) }, 'password line not in $7$ form; ignored');
    }
    this.entries = entries;
    this.loadedVersion = version;
  }

  /** Whether `username` is a gateway with this password. */
  verify(username: string, password: Buffer): boolean {
    this.reload();
    const entry = this.entries.get(username);
    return entry !== undefined && verifyMosquittoPassword(entry, password);
  }
}

/** The up filter, bare or in a shared subscription group. */
function isUpFilter(filter: string): boolean {
  if (filter === UP_FILTER || filter === `${TOPIC_ROOT}/+/up/#`) return true;
  const shared = /^\$share\/[^/+#]+\/(.+)$/.exec(filter);
  return shared !== null && isUpFilter(shared[1] as string);
}

export type BrokerUser = { role: 'regional' } | { role: 'gateway'; gatewayId: string };

export function mayPublish(user: BrokerUser, topic: string): boolean {
  if (user.role === 'regional') return parseAckTopic(topic) !== undefined;
  return parseUpTopic(topic)?.gatewayId === user.gatewayId;
}

export function maySubscribe(user: BrokerUser, filter: string): boolean {
  if (user.role === 'regional') return isUpFilter(filter);
  return filter === ackTopic(user.gatewayId);
}
