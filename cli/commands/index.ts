/**
 * Every subcommand registers itself here. One file per command group keeps
 * parallel work on different commands from colliding.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
