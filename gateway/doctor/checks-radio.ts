/** Doctor checks of the radio side: the concentrator link per backend, and the packet forwarder process. */
import { accessSync, constants, statSync } from 'node:fs';
import { formatHostPort } from '../config/fields.js';
import { radioConfigsOf } from '../config/radio.js';
import type { MaverickConfig } from '../config/schema.js';
import type { StatusSnapshot } from '../metrics/metrics.js';
import { listenForForwarder } from './radio-probes.js';
import { type CheckResult, type CommandRunner, fail, ok, type SerialProbe, warn } from './types.js';

const forwarderFix =
  'start the packet forwarder (sudo systemctl enable --now lora-pkt-fwd), check that its global_conf.json ' +
  'has server_address "127.0.0.1" and serv_port_up/serv_port_down 1700 (hardware/packet-forwarder/), and ' +
  'reset the concentrator (hardware/scripts/reset_lgw.sh) if it does not start';

function fromRunningGateway(id: string, backend: string, status: StatusSnapshot): CheckResult {
  const radio = status.radio[backend];
  if (!radio) {
    return fail(
      id,
      `the running gateway reports no "${backend}" backend`,
      'restart it: sudo systemctl restart maverick',
    );
  }
  if (radio.state !== 'up') {
    return fail(
      id,
      `the running gateway reports the ${backend} backend "${radio.state}"`,
      'see journalctl -u maverick -n 50 for why; check cabling and the device path',
    );
  }
  if (radio.uplinks > 0) {
    return ok(id, `${backend} up, ${radio.uplinks} uplinks since start, last at ${radio.lastUplinkAt}`);
  }
  return warn(
    id,
    `${backend} up but no uplink received in ${status.uptimeSeconds} s since start`,
    backend === 'semtech-udp' ? forwarderFix : 'check the antenna and that devices are powered and in range',
  );
}

function devicePresent(id: string, path: string, what: string): CheckResult | undefined {
  let isDevice: boolean;
  try {
    const s = statSync(path);
    isDevice = s.isCharacterDevice();
  } catch {
    return fail(
      id,
      `no ${what} at ${path}`,
      `plug it in and check ls -l /dev/serial/by-id/; install the udev rule (sudo cp hardware/udev/99-maverick.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger), or fix the path in maverick.toml`,
    );
  }
  if (!isDevice)
    return fail(id, `${path} is not a serial device`, 'point the path in maverick.toml at the tty device');
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    return fail(
      id,
      `${path} exists but this user cannot open it`,
      'add the user to dialout: sudo usermod -aG dialout maverick',
    );
  }
  return undefined;
}

export interface RadioCheckContext {
  config: MaverickConfig;
  status: StatusSnapshot | undefined;
  listenMs: number;
  probeTimeoutMs: number;
  serialProbe: SerialProbe;
}

export async function checkConcentrators(ctx: RadioCheckContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const radio of radioConfigsOf(ctx.config)) {
    const id = `concentrator:${radio.kind}`;
    if (ctx.status) {
      results.push(fromRunningGateway(id, radio.kind, ctx.status));
      continue;
    }
    if (radio.kind === 'semtech-udp') {
      const bind = formatHostPort({ host: radio.host, port: radio.port });
      const heard = await listenForForwarder(radio.host, radio.port, ctx.listenMs);
      const seconds = (ctx.listenMs / 1000).toFixed(1);
      if (heard.kind === 'heard') {
        results.push(
          ok(
            id,
            `${heard.datagrams} forwarder datagrams on ${bind} in ${seconds}s from gateway ${heard.gatewayEuis.join(', ')}`,
          ),
        );
      } else if (heard.kind === 'silent') {
        const other = heard.otherDatagrams
          ? ` (${heard.otherDatagrams} datagrams that are not Semtech UDP)`
          : '';
        results.push(
          fail(
            id,
            `no datagram from a packet forwarder reached ${bind} in ${seconds}s${other}`,
            forwarderFix,
          ),
        );
      } else if (heard.code === 'EADDRINUSE') {
        results.push(
          warn(
            id,
            `another process holds ${bind} and no Maverick status endpoint answers`,
            `if it is maverick, check [metrics] bind; otherwise find it with: sudo ss -ulpn 'sport = :${radio.port}'`,
          ),
        );
      } else {
        results.push(
          fail(
            id,
            `cannot listen on ${bind}: ${heard.code}`,
            'radio.udp.bind must be an address of this machine',
          ),
        );
      }
      continue;
    }
    const what = radio.kind === 'serial' ? 'serial concentrator' : 'single-channel modem';
    const missing = devicePresent(id, radio.path, what);
    if (missing) {
      results.push(missing);
      continue;
    }
    if (radio.kind === 'single-channel') {
      results.push(ok(id, `${radio.path} present (single-channel modems are receive-mostly; not probed)`));
      continue;
    }
    const answer = await ctx.serialProbe(radio.path, radio.baudRate, ctx.probeTimeoutMs);
    if (answer.kind === 'hello') {
      results.push(
        ok(
          id,
          `${radio.path} answers HELLO: firmware ${answer.firmware}, protocol v${answer.protocolVersion}`,
        ),
      );
    } else if (answer.kind === 'silent') {
      results.push(
        fail(
          id,
          `${radio.path} is present but did not answer HELLO in ${ctx.probeTimeoutMs} ms at ${radio.baudRate} baud`,
          'check radio.serial.baud and that the MCU runs the Maverick serial concentrator firmware (proto/serial/PROTOCOL.md)',
        ),
      );
    } else {
      results.push(
        warn(
          id,
          `cannot open ${radio.path}: ${answer.message}`,
          'stop whatever holds the port, then run doctor again',
        ),
      );
    }
  }
  return results;
}

/** Is the Semtech packet forwarder running? Only asked when the semtech-udp backend is configured. */
export async function checkForwarder(
  config: MaverickConfig | undefined,
  run: CommandRunner,
): Promise<CheckResult | undefined> {
  if (config && !config.radio.backend.includes('semtech-udp')) return undefined;
  const id = 'forwarder';
  const pgrep = await run('pgrep', ['-f', 'lora_pkt_fwd'], 3000);
  if (pgrep.kind === 'exited' && pgrep.code === 0) {
    return ok(id, `lora_pkt_fwd is running (pid ${pgrep.stdout.trim().split(/\s+/).join(', ')})`);
  }
  const unit = await run('systemctl', ['is-active', 'lora-pkt-fwd'], 3000);
  const state = unit.kind === 'exited' ? unit.stdout.trim() : '';
  if (state === 'active') return ok(id, 'systemd unit lora-pkt-fwd is active');
  if (state === 'activating') {
    return warn(
      id,
      'lora-pkt-fwd is starting (or restarting after a crash)',
      'journalctl -u lora-pkt-fwd -n 50 shows why',
    );
  }
  const host = config?.radio.udp.bind.host ?? '127.0.0.1';
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const unitText = state ? ` (unit lora-pkt-fwd: ${state})` : '';
  if (!loopback) {
    return warn(
      id,
      `no lora_pkt_fwd on this host${unitText}; fine if a forwarder on another machine sends to ${host}`,
      'otherwise install and start it: sudo systemctl enable --now lora-pkt-fwd',
    );
  }
  return fail(
    id,
    `lora_pkt_fwd is not running${unitText}`,
    'sudo systemctl enable --now lora-pkt-fwd (install it with hardware/install.sh); journalctl -u lora-pkt-fwd -n 50 tells why it stopped',
  );
}
