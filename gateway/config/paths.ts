/**
 * Where the config file and the files it names live. Kept apart from the
 * loader (load.ts) so the running gateway can resolve paths without loading
 * the config schema and its validator (see load-off-thread.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { MaverickConfig } from './schema.js';

export const CONFIG_FILE_NAME = 'maverick.toml';

export function configPath(dataDir: string): string {
  return join(resolve(dataDir), CONFIG_FILE_NAME);
}

/** Resolves a path from the config: absolute as is, relative inside the data dir. */
export function resolveDataPath(config: Pick<MaverickConfig, 'dataDir'>, path: string): string {
  return isAbsolute(path) ? path : join(config.dataDir, path);
}
