/** Doctor checks of the network side: the local broker and the regional link configuration. */
import { existsSync } from 'node:fs';
import { resolveDataPath } from '../config/load.js';
import type { MaverickConfig } from '../config/schema.js';
import { dialHost, tcpProbe } from './host.js';
import { type CheckResult, fail, ok, warn } from './types.js';

export async function checkBroker(config: MaverickConfig, timeoutMs: number): Promise<CheckResult> {
  const id = 'broker';
  let host = dialHost(config.mqtt.host);
  let port = config.mqtt.port;
  let which = 'embedded broker (it runs inside maverick run)';
  if (config.mqtt.external_url) {
    const url = new URL(config.mqtt.external_url);
    host = url.hostname.replace(/^\[|\]$/g, '');
    port = url.port ? Number(url.port) : url.protocol === 'mqtts:' ? 8883 : 1883;
    which = `external broker ${config.mqtt.external_url}`;
  }
  const error = await tcpProbe(host, port, timeoutMs);
  if (error === undefined) return ok(id, `${which} reachable on ${host}:${port}`);
  return fail(
    id,
    `${which} not reachable on ${host}:${port} (${error})`,
    config.mqtt.external_url
      ? 'start that broker or fix [mqtt] external_url in maverick.toml'
      : `start the gateway: sudo systemctl start maverick (or maverick run --data-dir ${config.dataDir}); journalctl -u maverick -n 50 if it keeps stopping`,
  );
}

export function checkRegional(config: MaverickConfig): CheckResult {
  const id = 'regional';
  const { url, links } = config.regional;
  if (links.includes('satellite') && !existsSync('/dev/maverick-satmodem')) {
    return warn(
      id,
      'the satellite link is configured but /dev/maverick-satmodem does not exist',
      'plug in the satellite modem and install hardware/udev/99-maverick.rules (sudo udevadm trigger)',
    );
  }
  if (!url) {
    return warn(
      id,
      'no regional url: sealed bundles stay in the outbox on this Pi',
      'set [regional] url = "mqtts://..." in maverick.toml (or maverick run --regional-url URL)',
    );
  }
  if (links.length === 0) {
    return warn(
      id,
      `regional url ${url} set but no links enabled`,
      'set [regional] links = ["mqtt"] (and/or "satellite")',
    );
  }
  if (links.includes('mqtt')) {
    const keyFile = config.regional.node_key && resolveDataPath(config, config.regional.node_key);
    if (!keyFile || !existsSync(keyFile)) {
      return fail(
        id,
        keyFile
          ? `regional.node_key ${keyFile} does not exist: no regional ack can be verified, the gateway will not start`
          : 'regional url set without regional.node_key: no regional ack can be verified, the gateway will not start',
        'copy the regional node\'s keys/regional-node.pub into the data dir and set [regional] node_key = "regional-node.pub"',
      );
    }
  }
  return ok(id, `bundles go to ${url} over ${links.join(', ')}`);
}

export const RMEM_MAX_PATH = '/proc/sys/net/core/rmem_max';

/**
 * The Semtech UDP socket asks for `radio.udp.receive_buffer_kb`, but Linux
 * grants at most net.core.rmem_max (often 208 KiB): a burst beyond that while
 * the gateway is busy is dropped by the kernel, and a forwarder never resends.
 */
export function checkReceiveBuffer(
  config: MaverickConfig,
  readProcFile: (path: string) => string | undefined,
): CheckResult | undefined {
  if (!config.radio.backend.includes('semtech-udp')) return undefined;
  const id = 'udp-buffer';
  const wanted = config.radio.udp.receive_buffer_kb * 1024;
  const text = readProcFile(RMEM_MAX_PATH);
  const rmemMax = text === undefined ? Number.NaN : Number(text.trim());
  if (!Number.isInteger(rmemMax)) {
    return warn(
      id,
      `cannot read ${RMEM_MAX_PATH}: the UDP receive buffer the kernel grants is unknown`,
      'on Linux, check that /proc is mounted; elsewhere make sure the OS allows a UDP receive buffer of ' +
        `${wanted} bytes`,
    );
  }
  if (rmemMax >= wanted) {
    return ok(id, `net.core.rmem_max is ${rmemMax} bytes: the ${wanted}-byte UDP receive buffer is granted`);
  }
  return warn(
    id,
    `net.core.rmem_max is ${rmemMax} bytes, below the ${wanted} bytes the Semtech UDP socket asks for: ` +
      'a burst of uplinks can overflow it and the forwarder never resends a dropped one',
    `echo 'net.core.rmem_max = ${wanted}' | sudo tee /etc/sysctl.d/60-maverick.conf && sudo sysctl --system ` +
      '(or lower [radio.udp] receive_buffer_kb)',
  );
}
