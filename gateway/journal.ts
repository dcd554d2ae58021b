/**
 * The journal lines a technician reads with `journalctl -u maverick`: one
 * info line per join and per uplink, a sentence first (which device, what it
 * sent, how well it was heard), the same facts as fields after it.
 */
import type { JoinEvent, ProcessedUplink } from '../kernel/ns/index.js';
import type { Logger } from '../proto/log.js';

function heard(rx: ProcessedUplink['rxInfo'][number] | undefined): string {
  if (!rx) return '';
  const snr = rx.snr === undefined ? '' : ` SNR ${rx.snr} dB`;
  return ` via ${rx.gatewayEui}, RSSI ${rx.rssi ?? '?'} dBm${snr}`;
}

/** Decoded fields as `name=value` pairs, at most `max` of them. */
function decodedSummary(object: Record<string, unknown> | undefined, max = 6): string {
  if (!object) return '';
  const parts: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (parts.length >= max) return;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else {
      parts.push(`${path}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  };
  walk(object, '');
  return parts.length ? `: ${parts.join(' ')}` : '';
}

export function logUplink(logger: Logger, up: ProcessedUplink): void {
  // The sentence costs a walk of the decoded fields per uplink: none when info lines are off.
  if (logger.isLevelEnabled?.('info') === false) return;
  const port = up.fPort === undefined ? 'no port (MAC only)' : `port ${up.fPort}`;
  const codec = up.errors.length ? ` (codec failed: ${up.errors.join('; ')})` : decodedSummary(up.object);
  logger.info(
    {
      devEui: up.device.devEui,
      fCnt: up.fCnt,
      fPort: up.fPort,
      rssi: up.rxInfo[0]?.rssi,
      snr: up.rxInfo[0]?.snr,
      gateways: up.rxInfo.length,
    },
    `uplink from ${up.device.name} (${up.device.devEui}) fCnt ${up.fCnt} ${port}, ${up.data.length} bytes${heard(up.rxInfo[0])}${codec}`,
  );
}

export function logJoin(logger: Logger, join: JoinEvent): void {
  logger.info(
    {
      devEui: join.device.devEui,
      devAddr: join.devAddr,
      rssi: join.rxInfo[0]?.rssi,
      snr: join.rxInfo[0]?.snr,
    },
    `device ${join.device.name} (${join.device.devEui}) joined as DevAddr ${join.devAddr}${heard(join.rxInfo[0])}`,
  );
}
