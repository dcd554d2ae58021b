/** Doctor checks of the host: clock source, free disk space, secret file permissions, malloc trimming. */
import { readdirSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keysDir } from '../../kernel/keys/gateway-key.js';
import type { MaverickConfig } from '../config/schema.js';
import { loadMallocTrim, NOT_GLIBC } from '../memory-trim.js';
import type { StatusSnapshot } from '../metrics/metrics.js';
import { type CheckResult, type CommandRunner, fail, ok, warn } from './types.js';

const MiB = 1024 * 1024;

/** GPS time from the concentrator beats NTP; without either, records say "host-unsynced". */
export async function checkClock(
  status: StatusSnapshot | undefined,
  run: CommandRunner,
): Promise<CheckResult> {
  const id = 'clock';
  if (status?.clock.source === 'gps') {
    return ok(id, `GPS time from the concentrator (last ${status.clock.lastGpsTime ?? 'unknown'})`);
  }
  const fix =
    'connect the concentrator GPS antenna (records then carry GPS time), or give the Pi a network with NTP ' +
    '(sudo timedatectl set-ntp true); an RTC HAT keeps the time across power cuts';
  const ntp = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], 3000);
  if (ntp.kind === 'exited' && ntp.code === 0) {
    const answer = ntp.stdout.trim();
    if (answer === 'yes') return ok(id, 'host clock synchronised by NTP');
    if (answer === 'no')
      return warn(id, 'unsynchronised host clock: no GPS time and NTP is not synchronised', fix);
  }
  return warn(
    id,
    'unsynchronised host clock: no GPS time, and timedatectl cannot say whether NTP is synchronised',
    fix,
  );
}

export function checkDisk(dataDir: string, config: MaverickConfig | undefined): CheckResult {
  const id = 'disk';
  let free: number;
  let total: number;
  try {
    const fs = statfsSync(dataDir);
    free = fs.bavail * fs.bsize;
    total = fs.blocks * fs.bsize;
  } catch (err) {
    return fail(
      id,
      `cannot read the file system of ${dataDir}: ${(err as NodeJS.ErrnoException).code}`,
      `run maverick init --data-dir ${dataDir}`,
    );
  }
  const text = `${(free / 1024 ** 3).toFixed(1)} GiB free of ${(total / 1024 ** 3).toFixed(1)} GiB on the data dir's file system`;
  const fix =
    'free space (sudo journalctl --vacuum-size=100M, sudo apt-get clean) or lower [store] quota_mb / retention_days';
  if (free < 100 * MiB) return fail(id, `${text}: the store cannot take new data safely`, fix);
  const quotaMb = config?.store.quota_mb;
  if (quotaMb !== undefined && free < quotaMb * MiB) {
    return warn(id, `${text}, less than the store quota of ${quotaMb} MB`, fix);
  }
  return ok(id, text);
}

/** Secret files (gateway secret keys, broker password) must be readable by their owner only. */
export function checkSecretPermissions(dataDir: string, config: MaverickConfig | undefined): CheckResult {
  const id = 'keys';
  const secrets: string[] = [];
  let keyFiles: string[] = [];
  try {
    keyFiles = readdirSync(keysDir(dataDir)).filter((name) => name.endsWith('.key'));
  } catch {
    // no keys directory: reported below
  }
  if (keyFiles.length === 0) {
    return fail(
      id,
      `no gateway secret key in ${keysDir(dataDir)}`,
      `run maverick init --data-dir ${dataDir}`,
    );
  }
  secrets.push(...keyFiles.map((name) => join(keysDir(dataDir), name)));
  const passwordFile = config?.mqtt.password_file ?? 'mqtt-password';
  secrets.push(passwordFile.startsWith('/') ? passwordFile : join(dataDir, passwordFile));
  // The farm console's password hash, when the console is on.
  if (config?.console.enabled) {
    const consoleFile = config.console.password_file;
    secrets.push(consoleFile.startsWith('/') ? consoleFile : join(dataDir, consoleFile));
  }
  const loose: string[] = [];
  const missing: string[] = [];
  for (const file of secrets) {
    try {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) loose.push(`${file} (mode ${mode.toString(8)})`);
    } catch {
      missing.push(file);
    }
  }
  if (loose.length) {
    return fail(
      id,
      `secret files readable by group or others: ${loose.join(', ')}`,
      `chmod 600 ${loose.map((l) => l.split(' ')[0]).join(' ')}`,
    );
  }
  if (missing.length) {
    return fail(
      id,
      `missing secret files: ${missing.join(', ')}`,
      `run maverick init --data-dir ${dataDir} --force (the gateway key is kept)`,
    );
  }
  return ok(id, `${secrets.length} secret files, all mode 0600 or stricter`);
}

/**
 * Whether `maverick run` can hand malloc's free pages back to the kernel (the addon in
 * native/malloc-trim). Without it the gateway runs, with a higher resident peak after bursts.
 */
export function checkMemoryTrim(load: typeof loadMallocTrim = loadMallocTrim): CheckResult {
  const id = 'memory-trim';
  const loaded = load();
  if ('trim' in loaded) return ok(id, 'malloc heaps are trimmed once a second (glibc malloc_trim)');
  if (loaded.missing === NOT_GLIBC)
    return ok(id, `malloc heaps are not trimmed: ${loaded.missing}; nothing to do`);
  return warn(
    id,
    `malloc heaps are not trimmed: ${loaded.missing}`,
    'the addon is an optional dependency built at install: install a C compiler (sudo apt-get install -y build-essential), then run npm ci in the install directory',
  );
}
