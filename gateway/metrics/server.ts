/**
 * A tiny HTTP server (node:http) for the metrics bind: `GET /metrics` in the
 * Prometheus text format, `GET /status` as JSON for `maverick status` and
 * `maverick doctor`, and POST actions (`/seal`, `/commit`) that need the data
 * directory's token (gateway/status/token.ts) and refuse requests a web page in
 * another origin made (a browser sends Origin / Sec-Fetch-Site; the CLI does not).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { isLoopbackHost } from '../../proto/net.js';
import type { Metrics } from './metrics.js';

export interface MetricsServerOptions {
  metrics: Metrics;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger?: Logger;
  /**
   * POST actions on the loopback status server, e.g. `/seal` for
   * `maverick bundle seal` while the gateway runs (only the running process may
   * seal: two sealers would race for one sequence number). Resolve to JSON.
   */
  actions?: Record<string, () => Promise<unknown>>;
  /** Bearer token every action needs; without one, actions are refused. */
  actionToken?: string;
  /** Sent as x-maverick-gateway-id on every answer, so a client can tell which gateway it reached. */
  gatewayId?: string;
}

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Why an action request is refused, or undefined when it may run. */
function refusal(
  headers: Record<string, string | string[] | undefined>,
  ownOrigin: string,
  token: string | undefined,
): { status: 401 | 403; error: string } | undefined {
  const origin = headers.origin;
  if ((origin !== undefined && origin !== ownOrigin) || headers['sec-fetch-site'] === 'cross-site') {
    return { status: 403, error: 'requests from another origin may not run actions' };
  }
  const auth = typeof headers.authorization === 'string' ? headers.authorization : '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (token === undefined || !sameToken(given, token)) {
    return { status: 401, error: 'a valid token is needed (Authorization: Bearer <data dir>/status-token)' };
  }
  return undefined;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:8868 */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics } = options;
  const logger = options.logger ?? silentLogger;
  let ownOrigin = '';
  const server: Server = createServer((req, res) => {
    if (options.gatewayId) res.setHeader('x-maverick-gateway-id', options.gatewayId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const action = req.method === 'POST' ? options.actions?.[path] : undefined;
    if (action) {
      const refused = refusal(req.headers, ownOrigin, options.actionToken);
      if (refused) {
        logger.warn(
          { path, status: refused.status, origin: req.headers.origin ?? null },
          'status action refused',
        );
        res
          .writeHead(refused.status, { 'content-type': 'application/json; charset=utf-8' })
          .end(`${JSON.stringify({ error: refused.error })}\n`);
        return;
      }
      action().then(
        (result) =>
          res
            .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
            .end(`${JSON.stringify(result)}\n`),
        (err: unknown) => {
          logger.error({ err: String(err), path }, 'status action failed');
          res
            .writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
            .end(`${JSON.stringify({ error: String(err) })}\n`);
        },
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      metrics.prometheusText().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          logger.error({ err: String(err) }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(metrics.snapshot())}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /status\n');
  });
  // A scraper that stalls must not hold a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  await new Promise<void>((resolveListen, rejectListen) => {
    const onError = (err: NodeJS.ErrnoException) => {
      rejectListen(
        new MaverickError(
          ErrorCode.MetricsBind,
          `cannot serve metrics on ${options.host}:${options.port}: ${err.code ?? err.message}`,
          {
            hint:
              err.code === 'EADDRINUSE'
                ? 'another process uses that port: change [metrics] bind in maverick.toml'
                : 'check [metrics] bind in maverick.toml',
            cause: err,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  server.on('error', (err) => logger.error({ err: String(err) }, 'metrics server error'));
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  ownOrigin = `http://${hostForUrl}:${address.port}`;
  logger.info({ url: ownOrigin }, 'metrics and status served');
  if (!isLoopbackHost(options.host)) {
    logger.warn(
      { host: options.host },
      'metrics and status are served beyond loopback: anyone on this network can read them (actions still need the token)',
    );
  }
  return {
    host: address.address,
    port: address.port,
    url: `http://${hostForUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
