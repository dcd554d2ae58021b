/** Doctor check of the installed packet-forwarder config against the Maverick config. */
import { readFileSync } from 'node:fs';
import type { MaverickConfig } from '../config/schema.js';
import { checkForwarderConf } from './forwarder-conf.js';
import { type CheckResult, fail, ok, warn } from './types.js';

/** Where hardware/install.sh puts the forwarder's config. */
export const DEFAULT_FORWARDER_CONF = '/etc/lora-pkt-fwd/global_conf.json';

/**
 * lora_pkt_fwd reads its JSON with comments (parson json_parse_file_with_comments),
 * so strip C and C++ comments outside strings before JSON.parse.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === '"') inString = false;
      i++;
    } else if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i + 2);
      i = end < 0 ? text.length : end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function checkForwarderConfig(path: string, config: MaverickConfig): CheckResult | undefined {
  if (!config.radio.backend.includes('semtech-udp')) return undefined;
  const id = 'forwarder-config';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return warn(
      id,
      `no packet-forwarder config at ${path}`,
      'install one for your board: sudo hardware/install.sh --board BOARD --region REGION (profiles in hardware/packet-forwarder/)',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(text));
  } catch (err) {
    return fail(
      id,
      `${path} is not valid JSON: ${(err as Error).message}`,
      'restore it from hardware/packet-forwarder/',
    );
  }
  const report = checkForwarderConf(json, config.gateway.region);
  if (report.problems.length || !report.gatewayConf) {
    return fail(
      id,
      `${path}: ${report.problems.join('; ')}`,
      'restore it from hardware/packet-forwarder/ and re-apply your changes',
    );
  }
  const gw = report.gatewayConf;
  const { host, port } = config.radio.udp.bind;
  const mismatches: string[] = [];
  if (gw.serv_port_up !== port || gw.serv_port_down !== port) {
    mismatches.push(
      `serv_port_up/down are ${gw.serv_port_up}/${gw.serv_port_down}, maverick listens on ${port}`,
    );
  }
  if (LOOPBACK.has(host) && !LOOPBACK.has(gw.server_address)) {
    mismatches.push(`server_address is "${gw.server_address}", maverick listens on ${host} only`);
  }
  if (mismatches.length) {
    return fail(
      id,
      `${path}: ${mismatches.join('; ')}`,
      `set server_address "127.0.0.1" and serv_port_up/down ${port} in ${path}, then sudo systemctl restart lora-pkt-fwd`,
    );
  }
  if (gw.gateway_ID.toLowerCase() !== config.gateway.id) {
    return warn(
      id,
      `the forwarder announces gateway_ID ${gw.gateway_ID.toLowerCase()}, the config says ${config.gateway.id}`,
      `make them equal: gateway_ID in ${path} or [gateway] id in maverick.toml`,
    );
  }
  return ok(
    id,
    `${path} (${report.chip}) sends to ${gw.server_address}:${port} as ${config.gateway.id}, ${report.channelsHz.length} channels in ${config.gateway.region}`,
  );
}
