/**
 * `maverick doctor`: runs every check against a data directory and the host,
 * and renders the findings. A running gateway is asked for its /status first
 * (it owns the radio ports); otherwise the radio link is probed directly.
 */
import { resolve } from 'node:path';
import { isMaverickError } from '../../proto/errors.js';
import { formatHostPort } from '../config/fields.js';
import { configPath, loadConfig } from '../config/load.js';
import type { MaverickConfig } from '../config/schema.js';
import { checkDataDirPermissions } from './check-data-dir.js';
import { checkForwarderConfig, DEFAULT_FORWARDER_CONF } from './check-forwarder-conf.js';
import { checkClock, checkDisk, checkMemoryTrim, checkSecretPermissions } from './checks-host.js';
import { checkBroker, checkReceiveBuffer, checkRegional } from './checks-network.js';
import { checkConcentrators, checkForwarder } from './checks-radio.js';
import { dialHost, fetchGatewayStatus, readProcFile, runHostCommand } from './host.js';
import { probeSerialHello } from './radio-probes.js';
import { type CheckResult, type DoctorOptions, type DoctorReport, fail, ok, warn } from './types.js';

function checkConfig(dataDir: string): { result: CheckResult; config?: MaverickConfig } {
  try {
    const config = loadConfig(dataDir);
    const summary = `gateway ${config.gateway.id}, ${config.gateway.region}, radio ${config.radio.backend.join(' + ')}`;
    return { result: ok('config', `${configPath(dataDir)} is valid (${summary})`), config };
  } catch (err) {
    if (!isMaverickError(err)) throw err;
    const fix =
      err.codeName === 'ConfigMissing'
        ? `run maverick init --data-dir ${dataDir}`
        : `edit ${configPath(dataDir)}: fix each field named above (the file explains every key)`;
    // The message already carries the hint; keep the finding to what is wrong.
    const finding = err.hint ? err.message.slice(0, err.message.length - err.hint.length - 3) : err.message;
    return { result: fail('config', finding, fix) };
  }
}

const notChecked = (id: string): CheckResult =>
  warn(
    id,
    'not checked: there is no valid config to check against',
    'fix the config first (see the config check)',
  );

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const dataDir = resolve(options.dataDir);
  const run = options.runCommand ?? runHostCommand;
  const probeTimeoutMs = options.probeTimeoutMs ?? 1500;
  const fetchStatus = options.fetchStatus ?? fetchGatewayStatus;
  const checks: CheckResult[] = [];

  const { result, config } = checkConfig(dataDir);
  checks.push(result);
  const statusUrl = config
    ? `http://${formatHostPort({ host: dialHost(config.metrics.bind.host), port: config.metrics.bind.port })}/status`
    : undefined;
  const answered = statusUrl ? await fetchStatus(statusUrl, probeTimeoutMs) : undefined;
  // Another data directory's gateway on this port is not ours: none of its figures apply here.
  const foreign = answered && config && answered.gatewayId !== config.gateway.id ? answered : undefined;
  const status = foreign ? undefined : answered;
  checks.push(
    foreign && config
      ? fail(
          'gateway',
          `the gateway answering at ${statusUrl} is ${foreign.gatewayId ?? 'not identified'}, not this data directory's gateway ${config.gateway.id}`,
          `two gateways share [metrics] bind: give ${configPath(dataDir)} its own port`,
        )
      : status
        ? ok('gateway', `maverick is running (status at ${statusUrl}, up ${status.uptimeSeconds} s)`)
        : warn(
            'gateway',
            'maverick is not running (no status endpoint answered)',
            'start it: sudo systemctl enable --now maverick',
          ),
  );

  if (config) {
    checks.push(
      ...(await checkConcentrators({
        config,
        status,
        listenMs: options.listenMs ?? 3000,
        probeTimeoutMs,
        serialProbe: options.serialProbe ?? probeSerialHello,
      })),
    );
  } else {
    checks.push(notChecked('concentrator'));
  }
  const forwarder = await checkForwarder(config, run);
  if (forwarder) checks.push(forwarder);
  const forwarderConf =
    config && checkForwarderConfig(options.forwarderConfPath ?? DEFAULT_FORWARDER_CONF, config);
  if (forwarderConf) checks.push(forwarderConf);
  checks.push(await checkClock(status, run));
  checks.push(checkDisk(dataDir, config));
  checks.push(checkSecretPermissions(dataDir, config));
  checks.push(checkMemoryTrim());
  checks.push(checkDataDirPermissions(dataDir, config));
  checks.push(config ? await checkBroker(config, probeTimeoutMs) : notChecked('broker'));
  checks.push(config ? checkRegional(config) : notChecked('regional'));
  const udpBuffer = config && checkReceiveBuffer(config, options.readProcFile ?? readProcFile);
  if (udpBuffer) checks.push(udpBuffer);
  return { dataDir, ok: checks.every((c) => c.status !== 'fail'), checks };
}

const LABEL = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

/** Word-wraps to `width` columns and indents continuation lines, so a report reads on a phone's SSH screen. */
function wrap(text: string, pad: string, width: number): string {
  const room = Math.max(30, width - pad.length);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines.join(`\n${pad}`);
}

export function formatReport(report: DoctorReport, width = 100): string {
  const idWidth = Math.max(...report.checks.map((c) => c.id.length));
  const pad = ' '.repeat(idWidth + 10);
  const lines = [`maverick doctor: ${report.dataDir}`, ''];
  for (const check of report.checks) {
    lines.push(`  ${LABEL[check.status]}  ${check.id.padEnd(idWidth)}  ${wrap(check.finding, pad, width)}`);
    if (check.fix) lines.push(`${pad}fix: ${wrap(check.fix, `${pad}     `, width)}`);
  }
  const failing = report.checks.filter((c) => c.status === 'fail').length;
  const warnings = report.checks.filter((c) => c.status === 'warn').length;
  lines.push('');
  lines.push(
    failing === 0 && warnings === 0
      ? 'All checks passed.'
      : `${failing} failing, ${warnings} warning${warnings === 1 ? '' : 's'}${failing ? ': fix the failing checks, then run doctor again.' : '.'}`,
  );
  return `${lines.join('\n')}\n`;
}
