/**
 * `maverick run`: the gateway process. This file parses flags, merges them
 * over `<dataDir>/maverick.toml`, validates, and hands the config to the
 * composition root (gateway/app.ts), stopping it cleanly on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { ConfigOverrides } from '../../gateway/config/load.js';
import { loadConfigOffThread } from '../../gateway/config/load-off-thread.js';
import type { MaverickConfig } from '../../gateway/config/schema.js';
import type { RegisterCommand } from './index.js';

export interface RunFlags {
  dataDir: string;
  udpBind?: string;
  serial?: string;
  baud?: string;
  mqttPort?: string;
  regionalUrl?: string;
  metricsBind?: string;
}

/** A numeric flag as a number when it is one; otherwise the text, so the schema names the field and the bad value. */
function numberOrText(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** Flags as config overrides (same shape as the file, so they are validated by the same schema). */
export function overridesFromFlags(flags: Omit<RunFlags, 'dataDir'>): ConfigOverrides {
  const radio: Record<string, unknown> = {};
  if (flags.udpBind !== undefined) radio.udp = { bind: flags.udpBind };
  if (flags.serial !== undefined || flags.baud !== undefined) {
    radio.serial = { path: flags.serial, baud: numberOrText(flags.baud) };
  }
  // --serial switches to the serial backend; with --udp-bind as well, both run.
  if (flags.serial !== undefined)
    radio.backend = flags.udpBind !== undefined ? ['semtech-udp', 'serial'] : ['serial'];
  const overrides: Record<string, unknown> = {};
  if (Object.keys(radio).length) overrides.radio = radio;
  if (flags.mqttPort !== undefined) overrides.mqtt = { port: numberOrText(flags.mqttPort) };
  if (flags.regionalUrl !== undefined) overrides.regional = { url: flags.regionalUrl };
  if (flags.metricsBind !== undefined) overrides.metrics = { bind: flags.metricsBind };
  // The overrides are validated by the schema right after the merge, like the file itself.
  return overrides as ConfigOverrides;
}

/**
 * The effective config of `maverick run`: the file, flags on top, validated (rejects with
 * ConfigInvalid naming the field). Validated on a thread of its own (load-off-thread.ts), so
 * the validator does not stay in the gateway's heap.
 */
export function resolveRunConfig(flags: RunFlags): Promise<MaverickConfig> {
  const { dataDir, ...rest } = flags;
  return loadConfigOffThread(dataDir, overridesFromFlags(rest));
}

/** Resolves on the first SIGINT or SIGTERM. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveSignal(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const registerRun: RegisterCommand = (program: Command) => {
  program
    .command('run')
    .description(
      'run the gateway: radio backends, network server, store, local broker (until SIGINT/SIGTERM)',
    )
    .requiredOption('--data-dir <dir>', 'data directory written by maverick init')
    .option('--udp-bind <host:port>', 'Semtech UDP listen address (radio.udp.bind)')
    .option(
      '--serial <path>',
      'use the serial concentrator at this device (with --udp-bind too: both backends)',
    )
    .option('--baud <n>', 'serial baud rate (radio.serial.baud)')
    .option('--mqtt-port <n>', 'local MQTT broker port (mqtt.port)')
    .option('--regional-url <url>', 'regional node broker, mqtt:// or mqtts:// (regional.url)')
    .option(
      '--init-store',
      'start with an empty store although this data directory had one (only after losing store/: devices must be added again)',
    )
    .option(
      '--metrics-bind <host:port>',
      '/metrics and /status listen address (metrics.bind, default 127.0.0.1:8868)',
    )
    .action(async (flags: RunFlags & { initStore?: boolean }) => {
      const config = await resolveRunConfig(flags);
      // Loaded on use: `maverick <anything> --help` should not pay for the radio stack.
      const [{ startGateway }, { createLogger }, { applyGatewayHeapPolicy }, { startMemoryTrim }] =
        await Promise.all([
          import('../../gateway/app.js'),
          import('../../kernel/log.js'),
          import('../../gateway/heap-policy.js'),
          import('../../gateway/memory-trim.js'),
        ]);
      // Before the gateway's threads start: V8's flags are the process's.
      applyGatewayHeapPolicy();
      const logger = createLogger({
        name: 'maverick',
        level: process.env.MAVERICK_LOG_LEVEL ?? config.log.level,
      });
      const stopSignal = nextStopSignal();
      const gateway = await startGateway(config, logger, flags.initStore ? { initStore: true } : {});
      // After the gateway's threads exist: the trim covers their malloc arenas too.
      const trimmer = startMemoryTrim({ logger });
      const radios = config.radio.backend.join(' + ');
      process.stdout.write(
        `maverick running: gateway ${config.gateway.id}, radio ${radios}, metrics ${gateway.metricsUrl}/metrics${gateway.consoleUrl ? `, console ${gateway.consoleUrl}/` : ''} (Ctrl-C stops)\n`,
      );
      const signal = await stopSignal;
      logger.info({ signal }, 'stopping');
      if (trimmer) {
        trimmer.stop();
        logger.info({ ...trimmer.stats() }, 'malloc heaps trimmed (trims, released, ms)');
      }
      await gateway.stop();
      logger.info('stopped');
    });
};
