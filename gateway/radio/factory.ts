/**
 * The one place that turns radio configuration into a RadioBackend (the
 * zigbee-herdsman adapter pattern: one contract, chosen by config in one factory).
 *
 * Each backend's module is loaded only when the configuration names it: a Semtech
 * UDP gateway never loads serialport and its parsers (~0.5 MB of heap for the
 * process's whole life otherwise), a serial one never loads the UDP thread.
 */

import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { RadioBackend } from '../../proto/radio.js';
import type { BindingInterface } from './serial-binding-types.cjs';
import type { ReconnectOptions } from './serial-port-session.js';

export interface SemtechUdpRadioConfig {
  kind: 'semtech-udp';
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** Default 1700; 0 picks a free port. */
  port?: number;
  txAckTimeoutMs?: number;
  /** Gateway EUIs heard; absent = any (see SemtechUdpBackendOptions.allowedGateways). */
  allowedGateways?: readonly string[];
  /**
   * Read the socket on a thread of its own (default), so a busy event loop never lets the
   * kernel's receive buffer overflow; false reads it on the event loop (semtech-udp-thread.ts).
   */
  thread?: boolean;
}

export interface SerialRadioConfig {
  kind: 'serial';
  /** e.g. /dev/ttyACM0 or a udev symlink like /dev/maverick-concentrator. */
  path: string;
  baudRate?: number;
  /** 16 hex characters: the MCU has no EUI of its own. */
  gatewayEui: string;
  txAckTimeoutMs?: number;
  reconnect?: Partial<ReconnectOptions>;
  heartbeatMs?: number;
}

export interface SingleChannelRadioConfig {
  kind: 'single-channel';
  path: string;
  baudRate?: number;
  gatewayEui: string;
  /** The one frequency the modem listens on. */
  frequencyHz: number;
  spreadingFactor?: number;
  bandwidthKHz?: 125 | 250 | 500;
  codingRate?: '4/5' | '4/6' | '4/7' | '4/8';
  preamble?: number;
  txPowerDbm?: number;
  reconnect?: Partial<ReconnectOptions>;
  commandTimeoutMs?: number;
  heartbeatMs?: number;
}

export type RadioConfig = SemtechUdpRadioConfig | SerialRadioConfig | SingleChannelRadioConfig;

export interface RadioFactoryDeps {
  /** Serial binding for the serial kinds (tests and the demo pass a mock link's binding). */
  binding?: BindingInterface;
}

function requirePath(config: { path?: unknown }, kind: string): string {
  if (typeof config.path !== 'string' || config.path === '') {
    throw new MaverickError(ErrorCode.ConfigInvalid, `radio.path is required for a ${kind} radio`, {
      hint: 'set radio.path to the serial device, e.g. /dev/ttyUSB0',
      context: { field: 'radio.path' },
    });
  }
  return config.path;
}

export async function createRadioBackend(
  config: RadioConfig,
  logger: Logger,
  deps: RadioFactoryDeps = {},
): Promise<RadioBackend> {
  const binding = deps.binding ? { binding: deps.binding } : {};
  switch (config.kind) {
    case 'semtech-udp': {
      const { kind: _kind, thread, ...options } = config;
      if (thread === false) {
        const { SemtechUdpBackend } = await import('./semtech-udp.js');
        return new SemtechUdpBackend({ ...options, logger });
      }
      const { SemtechUdpThreadBackend } = await import('./semtech-udp-thread.js');
      return new SemtechUdpThreadBackend({ ...options, logger });
    }
    case 'serial': {
      const path = requirePath(config, config.kind);
      const { SerialConcentratorBackend } = await import('./serial-concentrator.js');
      return new SerialConcentratorBackend({
        ...config,
        path,
        logger,
        ...binding,
      });
    }
    case 'single-channel': {
      if (!Number.isInteger(config.frequencyHz) || config.frequencyHz <= 0) {
        throw new MaverickError(
          ErrorCode.ConfigInvalid,
          'radio.frequencyHz must be a positive integer (Hz)',
          {
            hint: 'a single-channel modem listens on one frequency, e.g. 868100000',
            context: { field: 'radio.frequencyHz' },
          },
        );
      }
      const path = requirePath(config, config.kind);
      const { SingleChannelBackend } = await import('./single-channel.js');
      return new SingleChannelBackend({
        ...config,
        path,
        logger,
        ...binding,
      });
    }
    default: {
      const kind = (config as { kind?: unknown }).kind;
      throw new MaverickError(ErrorCode.ConfigInvalid, `radio.kind "${String(kind)}" is unknown`, {
        hint: 'use one of semtech-udp, serial, single-channel',
        context: { field: 'radio.kind' },
      });
    }
  }
}
