/**
 * Every subcommand registers itself here. One file per command group keeps
 * parallel work on different commands from colliding.
 */
import type { Command } from 'commander';
import { registerBundle } from './bundle.js';
import { registerDemo } from './demo.js';
import { registerDevice } from './device.js';
import { registerDoctor } from './doctor.js';
import { registerEvidence } from './evidence.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerPlot } from './plot.js';
import { registerRegional } from './regional.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { registerUplinks } from './uplinks.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerInit,
  registerKeys,
  registerDoctor,
  registerDemo,
  registerRun,
  registerStatus,
  registerDevice,
  registerPlot,
  registerUplinks,
  registerBundle,
  registerRegional,
  registerEvidence,
];
