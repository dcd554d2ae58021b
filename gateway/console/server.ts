/**
 * The farm console's HTTP(S) server (node:http, no framework): the bundled
 * page from dist/console-web, the JSON API (gateway/console/api.ts) behind a
 * login, and the live event stream (gateway/console/live.ts).
 *
 * Security by default: loopback unless the config opts into the LAN; TLS when
 * a certificate is configured (the session cookie is then `Secure`); every
 * API call needs the session cookie (HttpOnly, SameSite=Strict), and every
 * state-changing call also the session's CSRF token in `x-csrf-token` and,
 * when the browser sends one, an Origin equal to the console's own.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { type ConsoleData, HttpError, httpErrorOf } from './api-types.js';
import { LiveHub } from './live.js';
import type { PasswordVerifier } from './password.js';
import {
  type ConsoleSession,
  CSRF_HEADER,
  cookieValue,
  LoginBackoff,
  SESSION_COOKIE,
  SessionStore,
  sessionCookie,
} from './sessions.js';

export interface ConsoleServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  tls?: { certPath: string; keyPath: string };
  password: PasswordVerifier;
  data: ConsoleData;
  live?: LiveHub;
  /** Where the bundled page lives (default: dist/console-web, found from this file). */
  webDir?: string;
  sessions?: SessionStore;
  backoff?: LoginBackoff;
  logger?: Logger;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  readonly live: LiveHub;
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};
/** The page loads nothing from elsewhere: scripts, styles, images and connections stay on this gateway. */
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The bundle beside the compiled code (dist/gateway/console → dist/console-web) or, from source, in dist/. */
export function defaultWebDir(): string {
  const here = import.meta.dirname;
  const candidates = [resolve(here, '../../console-web'), resolve(here, '../../dist/console-web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[1] as string);
}

function loadWeb(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of ['index.html', 'app.js', 'app.css', 'manifest.webmanifest', 'sw.js']) {
    const path = join(dir, name);
    if (existsSync(path)) {
      files.set(`/${name}`, {
        body: readFileSync(path),
        type: TYPES[extname(name)] ?? 'application/octet-stream',
      });
    }
  }
  if (!files.has('/index.html')) {
    throw new MaverickError(
      ErrorCode.ConsoleBind,
      `the console page is not built (${dir}/index.html missing)`,
      {
        hint: 'run `npm run build` (it bundles the console with esbuild)',
      },
    );
  }
  files.set('/', files.get('/index.html') as { body: Buffer; type: string });
  return files;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    })
    .end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    throw new HttpError(415, 'send JSON (content-type: application/json)');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}

function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const logger = options.logger ?? silentLogger;
  const web = loadWeb(options.webDir ?? defaultWebDir());
  const sessions = options.sessions ?? new SessionStore();
  const backoff = options.backoff ?? new LoginBackoff();
  const live = options.live ?? new LiveHub();
  const secure = options.tls !== undefined;
  let ownOrigin = '';

  const sessionOf = (req: IncomingMessage): ConsoleSession | undefined =>
    sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));

  /** A cross-site request carries a foreign Origin; a same-origin fetch carries ours (or none on old browsers). */
  const sameOrigin = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return (
      origin === undefined ||
      origin === ownOrigin ||
      origin === `${secure ? 'https' : 'http'}://${req.headers.host}`
    );
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const client = clientOf(req);
    const wait = backoff.waitMs(client);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      send(
        res,
        429,
        { error: `too many wrong passwords: try again in ${seconds} s` },
        { 'retry-after': String(seconds) },
      );
      return;
    }
    const body = (await readJson(req)) as { password?: unknown } | undefined;
    const password = typeof body?.password === 'string' ? body.password : '';
    if (!(await options.password.verify(password))) {
      backoff.failed(client);
      logger.warn({ client }, 'console login refused: wrong password');
      send(res, 401, { error: 'wrong password' });
      return;
    }
    backoff.succeeded(client);
    const previous = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (previous) sessions.destroy(previous);
    const session = sessions.create();
    logger.info({ client }, 'console login');
    send(res, 200, { csrf: session.csrf }, { 'set-cookie': sessionCookie(session.id, { secure }) });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const method = req.method ?? 'GET';
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    if (!url.pathname.startsWith('/api/')) {
      const file = web.get(url.pathname);
      if (!file || (method !== 'GET' && method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, {
        'content-type': file.type,
        'content-security-policy': CSP,
        'x-frame-options': 'DENY',
        'cache-control': 'no-cache',
      });
      res.end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    const segments = url.pathname.slice('/api/'.length).split('/').filter(Boolean);
    const changes = method !== 'GET' && method !== 'HEAD';
    if (changes && !sameOrigin(req)) throw new HttpError(403, 'cross-site request refused');
    if (method === 'POST' && segments.join('/') === 'login') return login(req, res);
    const session = sessionOf(req);
    if (!session) throw new HttpError(401, 'log in first');
    if (changes && !sessions.csrfMatches(session, req.headers[CSRF_HEADER] as string | undefined)) {
      throw new HttpError(403, 'missing or wrong CSRF token: reload the page');
    }
    const path = segments.join('/');
    if (method === 'GET' && path === 'session') return send(res, 200, { csrf: session.csrf });
    if (method === 'POST' && path === 'logout') {
      sessions.destroy(session.id);
      return send(res, 200, { ok: true }, { 'set-cookie': sessionCookie('', { secure, maxAgeS: 0 }) });
    }
    if (method === 'GET' && path === 'events') return live.attach(res);
    const body = changes ? await readJson(req) : undefined;
    // Loaded at the first API request (api-types.ts says why); the module system keeps it after.
    const { handleApi } = await import('./api.js');
    const result = await handleApi(options.data, { method, segments, query: url.searchParams, body });
    if (path === 'plots.geojson') {
      res.setHeader('content-disposition', 'attachment; filename="plots.geojson"');
      res.setHeader('content-type', 'application/geo+json');
    }
    send(
      res,
      200,
      result ?? null,
      path === 'plots.geojson' ? { 'content-type': 'application/geo+json' } : {},
    );
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const http = httpErrorOf(err);
      if (http.status >= 500) logger.error({ err: String(err), url: req.url }, 'console request failed');
      if (!res.headersSent) {
        send(res, http.status, { error: http.message, ...(http.hint ? { hint: http.hint } : {}) });
      } else res.end();
    });
  };

  let server: Server;
  if (options.tls) {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(options.tls.certPath);
      key = readFileSync(options.tls.keyPath);
    } catch (err) {
      throw new MaverickError(
        ErrorCode.ConsoleBind,
        `cannot read the console TLS files: ${(err as Error).message}`,
        {
          hint: 'check [console] tls.cert and tls.key in maverick.toml',
          cause: err,
        },
      );
    }
    server = createHttpsServer({ cert, key }, onRequest);
  } else {
    server = createHttpServer(onRequest);
  }
  server.headersTimeout = 10_000;

  await new Promise<void>((resolveListen, rejectListen) => {
    const onError = (err: NodeJS.ErrnoException) =>
      rejectListen(
        new MaverickError(
          ErrorCode.ConsoleBind,
          `cannot serve the console on ${options.host}:${options.port}: ${err.code ?? err.message}`,
          {
            hint:
              err.code === 'EADDRINUSE'
                ? 'another process uses that port: change [console] port in maverick.toml'
                : 'check [console] in maverick.toml',
            cause: err,
          },
        ),
      );
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  server.on('error', (err) => logger.error({ err: String(err) }, 'console server error'));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${secure ? 'https' : 'http'}://${host}:${address.port}`;
  ownOrigin = url;
  logger.info({ url }, 'farm console served');
  return {
    url,
    port: address.port,
    live,
    close: () =>
      new Promise<void>((resolveClose) => {
        live.close();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
