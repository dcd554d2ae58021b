/**
 * How the CLI talks to the gateway running from a data directory: its status
 * server at [metrics] bind, checked to be that gateway (its gatewayId must be
 * this data directory's gateway.id: another gateway may own the port), and its
 * actions called with the data directory's token.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { formatHostPort } from '../config/fields.js';
import { loadConfig } from '../config/load.js';
import type { MaverickConfig } from '../config/schema.js';
import { dialHost } from '../doctor/host.js';
import type { StatusSnapshot } from '../metrics/metrics.js';
import { readStatusToken } from './token.js';

/** Response header naming the gateway that answered (actions too). */
export const GATEWAY_ID_HEADER = 'x-maverick-gateway-id';

export function statusBaseUrl(config: Pick<MaverickConfig, 'metrics'>): string {
  const { host, port } = config.metrics.bind;
  return `http://${formatHostPort({ host: dialHost(host), port })}`;
}

/** The error when the process at the status port is some other gateway. */
export function wrongGateway(
  url: string,
  answered: string | undefined,
  config: MaverickConfig,
): MaverickError {
  return new MaverickError(
    ErrorCode.ConfigInvalid,
    `the gateway answering at ${url} is ${answered ?? 'not identified'}, not this data directory's gateway ${config.gateway.id}`,
    {
      hint: `two gateways share [metrics] bind: give each data directory its own port in maverick.toml (this one: ${config.dataDir})`,
      context: { url, answered: answered ?? null, expected: config.gateway.id },
    },
  );
}

export type RunningGateway =
  | { kind: 'ours'; url: string; snapshot: StatusSnapshot }
  | { kind: 'none'; url: string; cause: unknown };

/** GET /status; throws wrongGateway when another gateway answers. */
export async function fetchOwnStatus(config: MaverickConfig, timeoutMs = 5000): Promise<RunningGateway> {
  const url = `${statusBaseUrl(config)}/status`;
  let snapshot: StatusSnapshot;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    snapshot = (await res.json()) as StatusSnapshot;
  } catch (cause) {
    return { kind: 'none', url, cause };
  }
  if (snapshot?.gatewayId !== config.gateway.id) throw wrongGateway(url, snapshot?.gatewayId, config);
  return { kind: 'ours', url, snapshot };
}

/**
 * POSTs an action to the running gateway with this data directory's token.
 * Undefined when nothing answers (no gateway running); throws when another
 * gateway answers or the action fails.
 */
export async function postAction(
  dataDir: string,
  path: '/seal' | '/commit' | '/statement',
  timeoutMs = 60_000,
): Promise<unknown> {
  const config = loadConfig(dataDir);
  const url = `${statusBaseUrl(config)}${path}`;
  const token = readStatusToken(config.dataDir);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    return undefined;
  }
  const answered = res.headers.get(GATEWAY_ID_HEADER) ?? undefined;
  if (answered !== config.gateway.id) throw wrongGateway(url, answered, config);
  if (res.status === 401 || res.status === 403) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `the running gateway refused ${path}: this data directory's token does not match`,
      {
        hint: `restart the gateway (it reads ${config.dataDir}/status-token when it starts)`,
      },
    );
  }
  const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as unknown;
  if (!res.ok) {
    const reason =
      body && typeof body === 'object' && 'error' in body ? String(body.error) : `HTTP ${res.status}`;
    throw new MaverickError(ErrorCode.BundleSequence, `the running gateway refused ${path}: ${reason}`);
  }
  return body;
}
