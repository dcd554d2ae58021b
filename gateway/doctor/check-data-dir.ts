/**
 * Doctor check of what holds secrets at rest: the data directory and store/
 * must be 0700, the SQLite files (AppKeys, session keys) and the status token
 * 0600, and maverick.toml 0600 when it carries a password.
 */
import { existsSync, statSync } from 'node:fs';
import { configPath } from '../config/load.js';
import type { MaverickConfig } from '../config/schema.js';
import { secretsInConfig } from '../config/secrets.js';
import { statusTokenPath } from '../status/token.js';
import { gatewayDatabaseFile, storeDirectory } from '../store-files.js';
import { type CheckResult, fail, ok } from './types.js';

export function checkDataDirPermissions(dataDir: string, config: MaverickConfig | undefined): CheckResult {
  const id = 'data-dir';
  const database = gatewayDatabaseFile(dataDir);
  const wanted: Array<[string, number]> = [
    [dataDir, 0o700],
    [storeDirectory(dataDir), 0o700],
    [database, 0o600],
    [`${database}-wal`, 0o600],
    [`${database}-shm`, 0o600],
    [statusTokenPath(dataDir), 0o600],
  ];
  if (config && secretsInConfig(config).length > 0) wanted.push([configPath(dataDir), 0o600]);
  const loose: string[] = [];
  let checked = 0;
  for (const [path, mode] of wanted) {
    if (!existsSync(path)) continue;
    checked++;
    const actual = statSync(path).mode & 0o777;
    if ((actual & ~mode) !== 0) loose.push(`${path} (mode ${actual.toString(8)}, want ${mode.toString(8)})`);
  }
  if (loose.length > 0) {
    return fail(
      id,
      `readable by group or others, though they hold keys and secrets: ${loose.join(', ')}`,
      loose.map((l) => `chmod ${l.endsWith('want 700)') ? '700' : '600'} ${l.split(' (')[0]}`).join('; '),
    );
  }
  return ok(id, `${checked} paths in ${dataDir} private to their owner (directories 0700, files 0600)`);
}
