/**
 * The environment the deployed gateway runs with, read from hardware/systemd/maverick.service, so a
 * bench spawns `maverick run` as a Pi runs it (NODE_OPTIONS, MALLOC_ARENA_MAX, ...).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = resolve(import.meta.dirname, '..');

/** Every `Environment=` of the systemd unit, as the deployed gateway gets it (NODE_OPTIONS, MALLOC_ARENA_MAX, ...). */
export function deployedEnvironment(): Record<string, string> {
  const unit = readFileSync(join(projectRoot, 'hardware', 'systemd', 'maverick.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?([A-Za-z_][A-Za-z0-9_]*)=([^"\n]*)"?$/gm)) {
    env[m[1] as string] = (m[2] as string).trim();
  }
  return env;
}

export function deployedNodeOptions(): string {
  return deployedEnvironment().NODE_OPTIONS ?? '';
}

/** The unit's environment in one line, for a bench's note. */
export function deployedEnvironmentNote(): string {
  const env = deployedEnvironment();
  delete env.NODE_ENV;
  return (
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'none'
  );
}
