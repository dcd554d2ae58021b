/**
 * Every subcommand registers itself here. One file per command group keeps
 * parallel work on different commands from colliding.
 *
 * Each group is loaded only when it is needed: `maverick run` loads the
 * gateway, not the demo's simulator, the regional node or the evidence
 * verifier (their code and source text stayed resident in the gateway's heap
 * for its whole life otherwise: about 5 MB of a Pi's memory).
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

/** Top-level command names, in the order `--help` lists them, each with its module's loader. */
export const commandLoaders: ReadonlyArray<readonly [string, () => Promise<RegisterCommand>]> = [
  ['init', async () => (await import('./init.js')).registerInit],
  ['keys', async () => (await import('./keys.js')).registerKeys],
  ['doctor', async () => (await import('./doctor.js')).registerDoctor],
  ['demo', async () => (await import('./demo.js')).registerDemo],
  ['run', async () => (await import('./run.js')).registerRun],
  ['status', async () => (await import('./status.js')).registerStatus],
  ['device', async () => (await import('./device.js')).registerDevice],
  ['plot', async () => (await import('./plot.js')).registerPlot],
  ['uplinks', async () => (await import('./uplinks.js')).registerUplinks],
  ['bundle', async () => (await import('./bundle.js')).registerBundle],
  ['regional', async () => (await import('./regional.js')).registerRegional],
  ['evidence', async () => (await import('./evidence.js')).registerEvidence],
];

/** The register functions for `argv`: only its command's when it names one, else all (help, typos). */
export async function commandsFor(argv: readonly string[] = []): Promise<RegisterCommand[]> {
  const named = commandLoaders.find(([name]) => name === argv[0]);
  const loaders = named ? [named] : commandLoaders;
  return Promise.all(loaders.map(([, load]) => load()));
}
