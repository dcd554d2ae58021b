/**
 * The environment the deployed processes run with, read from their systemd units in
 * hardware/systemd, so a bench spawns `maverick run` as a Pi runs it (NODE_OPTIONS,
 * MALLOC_ARENA_MAX, ...) and `maverick regional serve` as a regional worker runs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = resolve(import.meta.dirname, '..');

/** The gateway's unit and a regional intake worker's. */
export type DeployedUnit = 'maverick.service' | 'maverick-regional@.service';

/** Every `Environment=` of a systemd unit (default the gateway's), as the deployed process gets it. */
export function deployedEnvironment(unitName: DeployedUnit = 'maverick.service'): Record<string, string> {
  const unit = readFileSync(join(projectRoot, 'hardware', 'systemd', unitName), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?([A-Za-z_][A-Za-z0-9_]*)=([^"\n]*)"?$/gm)) {
    env[m[1] as string] = (m[2] as string).trim();
  }
  return env;
}

export function deployedNodeOptions(): string {
  return deployedEnvironment().NODE_OPTIONS ?? '';
}

/** A unit's environment in one line, for a bench's note. */
export function deployedEnvironmentNote(unitName: DeployedUnit = 'maverick.service'): string {
  const env = deployedEnvironment(unitName);
  delete env.NODE_ENV;
  return (
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'none'
  );
}
