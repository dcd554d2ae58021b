/** `maverick status`: live counters from the running gateway (its loopback /status endpoint). */
import type { Command } from 'commander';
import { loadConfig } from '../../gateway/config/index.js';
import type { StatusSnapshot } from '../../gateway/metrics/metrics.js';
import { fetchOwnStatus } from '../../gateway/status/client.js';
import { withGatewayStore } from '../../gateway/store-access.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { printJson, renderTable } from '../format/table.js';
import { deviceRows, renderDeviceHealth } from './device.js';
import type { RegisterCommand } from './index.js';

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

export function formatStatus(s: StatusSnapshot): string {
  const lines = [
    `gateway ${s.gatewayId ?? '?'} up ${s.uptimeSeconds}s (since ${s.startedAt})`,
    `devices ${s.devices}   uplinks ${s.uplinks.received} (last ${s.uplinks.lastAt ?? 'never'})   store ${mib(s.store.sizeBytes)}   outbox ${s.outbox.depth} bundle(s)`,
    `clock ${s.clock.source}${s.clock.lastGpsTime ? ` (GPS ${s.clock.lastGpsTime})` : ''}`,
  ];
  if (s.outbox.retrying)
    lines.push(`outbox: ${s.outbox.retrying} item(s) waiting for the regional node to retry`);
  for (const p of s.outbox.parked)
    lines.push(
      `ALARM regional node rejected ${p.kind} ${p.seq} (${p.reason}) at ${p.at}; kept, not resent: see the regional node's alerts`,
    );
  const rejected = Object.entries(s.uplinks.rejected);
  if (rejected.length) lines.push(`rejected ${rejected.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const radios = Object.entries(s.radio);
  if (radios.length)
    lines.push(
      '',
      renderTable(
        ['radio', 'state', 'uplinks', 'last uplink'],
        radios.map(([k, r]) => [k, r.state, r.uplinks, r.lastUplinkAt]),
      ),
    );
  const links = Object.entries(s.links);
  if (links.length)
    lines.push(
      '',
      renderTable(
        ['link', 'state', 'bytes sent'],
        links.map(([k, l]) => [k, l.state, l.bytesSent]),
      ),
    );
  if (s.recentUplinks.length) {
    lines.push(
      '',
      renderTable(
        ['at', 'backend', 'MHz', 'rssi', 'snr'],
        s.recentUplinks
          .slice(-10)
          .map((u) => [
            u.at,
            u.backend,
            u.frequencyHz === undefined ? '' : (u.frequencyHz / 1e6).toFixed(3),
            u.rssi,
            u.snr,
          ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const registerStatus: RegisterCommand = (program: Command) => {
  program
    .command('status')
    .description('live counters of the running gateway: devices, last uplinks, store size, outbox, links')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print the raw JSON snapshot')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      // Throws when another gateway answers on this data directory's status port.
      const running = await fetchOwnStatus(loadConfig(flags.dataDir));
      if (running.kind === 'none') {
        throw new MaverickError(ErrorCode.ConfigInvalid, `no running gateway answers at ${running.url}`, {
          hint: `start it with \`maverick run --data-dir ${flags.dataDir}\` (or \`systemctl start maverick\`), or run \`maverick doctor\``,
          cause: running.cause,
        });
      }
      const { snapshot } = running;
      // Per-device health comes from the store (readable while the gateway runs).
      const devices = await withGatewayStore(flags.dataDir, deviceRows);
      if (flags.json) printJson({ ...snapshot, deviceHealth: devices });
      else process.stdout.write(`${formatStatus(snapshot)}\n${renderDeviceHealth(devices)}\n`);
    });
};
