/**
 * From the file's [radio] tables to one settings object per backend, in the
 * shape the radio factory (gateway/radio) takes. The type is declared here
 * structurally so the config does not depend on the backends' code.
 */
import type { MaverickConfig } from './schema.js';

export type RadioConfig =
  | {
      kind: 'semtech-udp';
      host: string;
      port: number;
      receiveBufferBytes: number;
      allowedGateways: string[];
    }
  | { kind: 'serial'; path: string; baudRate: number; gatewayEui: string }
  | { kind: 'single-channel'; path: string; baudRate: number; gatewayEui: string; frequencyHz: number };

/** One entry per configured backend, in the order of `radio.backend`. */
export function radioConfigsOf(config: Pick<MaverickConfig, 'radio' | 'gateway'>): RadioConfig[] {
  const { radio, gateway } = config;
  return radio.backend.map((kind): RadioConfig => {
    switch (kind) {
      case 'semtech-udp':
        return {
          kind,
          host: radio.udp.bind.host,
          port: radio.udp.bind.port,
          receiveBufferBytes: radio.udp.receive_buffer_kb * 1024,
          // The gateway's own forwarder, plus any the operator listed.
          allowedGateways: [...new Set([gateway.id, ...radio.udp.gateways])],
        };
      case 'serial':
        // The schema guarantees path is set when "serial" is listed.
        return { kind, path: radio.serial.path ?? '', baudRate: radio.serial.baud, gatewayEui: gateway.id };
      default:
        return {
          kind,
          path: radio.single_channel.path ?? '',
          baudRate: radio.single_channel.baud,
          gatewayEui: gateway.id,
          frequencyHz: radio.single_channel.frequency_hz ?? 0,
        };
    }
  });
}
