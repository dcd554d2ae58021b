import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { selfSignedCertificate } from '../../test/helpers/self-signed.js';
import type { ConsoleData } from './api.js';
import { LiveHub } from './live.js';
import { hashPassword, parsePasswordHash, readConsolePassword, writeConsolePassword } from './password.js';
import { type ConsoleServer, startConsoleServer } from './server.js';
import { cookieValue, LoginBackoff, SessionStore } from './sessions.js';

let dir: string;
const servers: ConsoleServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'maverick-console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Routes are not under test here: every data call fails loudly if reached. */
const noData = new Proxy({} as ConsoleData, {
  get: (_t, key) => (key === 'now' ? Date.now : () => Promise.reject(new Error(`unexpected ${String(key)}`))),
});

describe('console password file', () => {
  it('stores a 0600 scrypt hash that verifies only the right password', async () => {
    const path = await writeConsolePassword(dir, 'orchard-gate-42');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const verifier = readConsolePassword(dir);
    expect(await verifier.verify('orchard-gate-42')).toBe(true);
    expect(await verifier.verify('orchard-gate-43')).toBe(false);
    expect(await verifier.verify('')).toBe(false);
  });

  it('refuses a short password and a file that is not a hash', async () => {
    await expect(hashPassword('short')).rejects.toThrow(/at least 8/);
    for (const line of ['plain-text-password', 'scrypt$3$8$1$AAAA$BBBB', 'scrypt$16384$8$1$$']) {
      try {
        parsePasswordHash(line);
        expect.unreachable();
      } catch (err) {
        expect(isMaverickError(err, ErrorCode.SecretMissing)).toBe(true);
        expect((err as Error).message).toContain('maverick init --force');
      }
    }
  });
});

describe('sessions and login back-off', () => {
  it('expires idle sessions and compares CSRF tokens exactly', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, now: () => now });
    const s = store.create();
    expect(store.csrfMatches(s, s.csrf)).toBe(true);
    expect(store.csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(store.csrfMatches(s, undefined)).toBe(false);
    now = 900;
    expect(store.get(s.id)).toBe(s); // use restarts the idle timer
    now = 1800;
    expect(store.get(s.id)).toBe(s);
    now = 2801;
    expect(store.get(s.id)).toBeUndefined();
  });

  it('lets three mistakes pass, then doubles the wait, and forgets after a success', () => {
    let now = 0;
    const backoff = new LoginBackoff({ now: () => now, baseMs: 1000, maxMs: 8000 });
    for (let i = 0; i < 3; i++) backoff.failed('a');
    expect(backoff.waitMs('a')).toBe(0);
    const waits = [];
    for (let i = 0; i < 6; i++) {
      backoff.failed('a');
      waits.push(backoff.waitMs('a'));
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoff.waitMs('b')).toBe(0);
    now = 8000;
    expect(backoff.waitMs('a')).toBe(0);
    backoff.succeeded('a');
    backoff.failed('a');
    expect(backoff.waitMs('a')).toBe(0);
  });

  it('reads one cookie from a Cookie header', () => {
    expect(cookieValue('a=1; maverick_session=xyz; b=2', 'maverick_session')).toBe('xyz');
    expect(cookieValue('maverick_sessionx=1', 'maverick_session')).toBeUndefined();
    expect(cookieValue(undefined, 'maverick_session')).toBeUndefined();
  });
});

describe('console server', () => {
  async function start(options: { tls?: { certPath: string; keyPath: string }; now?: () => number } = {}) {
    const server = await startConsoleServer({
      host: '127.0.0.1',
      port: 0,
      password: parsePasswordHash(await hashPassword('orchard-gate-42')),
      data: noData,
      webDir: dir,
      backoff: new LoginBackoff({ now: options.now ?? Date.now }),
      ...(options.tls ? { tls: options.tls } : {}),
    });
    servers.push(server);
    return server;
  }
  const login = (url: string, password: string) =>
    fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });

  it('backs off after repeated wrong passwords, even for the right one, until the wait is over', async () => {
    let now = 1_000_000;
    const server = await start({ now: () => now });
    for (let i = 0; i < 4; i++) expect((await login(server.url, 'wrong-password')).status).toBe(401);
    const refused = await login(server.url, 'orchard-gate-42');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    now += 1000;
    const ok = await login(server.url, 'orchard-gate-42');
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^maverick_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  });

  it('serves the page with a CSP that loads nothing from elsewhere, and nothing outside its files', async () => {
    const server = await start();
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${server.url}/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/overview`)).status).toBe(401);
  });

  it('answers a bad request with the field and what is allowed, touching no data', async () => {
    const server = await start();
    const ok = await login(server.url, 'orchard-gate-42');
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await ok.json()) as { csrf: string };
    const post = async (path: string, body: unknown, type = 'application/json') => {
      const r = await fetch(`${server.url}/api/${path}`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': type },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: r.status, error: ((await r.json()) as { error: string }).error };
    };
    const otaa = { mode: 'otaa', joinEui: '0000000000000000', appKey: '00112233445566778899aabbccddeeff' };
    expect(await post('devices', { devEui: '12345', name: 'x', activation: otaa })).toEqual({
      status: 400,
      error: 'DevEUI: 16 hexadecimal characters',
    });
    expect(
      await post('devices', { devEui: '0011223344556677', name: 'x', activation: { ...otaa, appKey: 'zz' } }),
    ).toEqual({
      status: 400,
      error: 'AppKey: 32 hexadecimal characters',
    });
    expect(await post('devices/0011223344556677/downlink', { fPort: 0, hex: '01' })).toMatchObject({
      status: 400,
    });
    expect(await post('devices/0011223344556677/downlink', { fPort: 10, hex: '0g' })).toEqual({
      status: 400,
      error: 'payload: 1..51 bytes as hexadecimal, e.g. 0102ff',
    });
    expect(await post('devices', '{not json')).toEqual({
      status: 400,
      error: 'the request body is not valid JSON',
    });
    expect(await post('devices', 'devEui=1', 'application/x-www-form-urlencoded')).toMatchObject({
      status: 415,
    });
    expect(
      await post('plots', {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { id: 'p', name: 'P', areaHa: 1 },
            geometry: { type: 'Point', coordinates: [200, 0] },
          },
        ],
      }),
    ).toEqual({
      status: 400,
      error: 'feature 1: plot geometry.coordinates: longitude 200 is outside -180..180',
    });
  });

  it('marks the session cookie Secure under TLS', async () => {
    const { certPath, keyPath } = selfSignedCertificate(dir);
    const server = await start({ tls: { certPath, keyPath } });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const setCookie = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}/api/login`,
        { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(String(res.headers['set-cookie'] ?? ''));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ password: 'orchard-gate-42' }));
    });
    expect(setCookie).toContain('; Secure');
    expect(setCookie).toContain('HttpOnly');
  });

  it('refuses to start on a port in use, saying which setting to change', async () => {
    const first = await start();
    try {
      await startConsoleServer({
        host: '127.0.0.1',
        port: first.port,
        password: parsePasswordHash(await hashPassword('orchard-gate-42')),
        data: noData,
        webDir: dir,
      });
      expect.unreachable();
    } catch (err) {
      expect(isMaverickError(err, ErrorCode.ConsoleBind)).toBe(true);
      expect((err as Error).message).toContain('[console] port');
    }
  });
});

/** A response whose socket takes nothing until told to drain. */
class SlowResponse extends EventEmitter {
  readonly written: string[] = [];
  accepting = false;
  writeHead() {
    return this;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return this.accepting;
  }
}

describe('live event stream back-pressure', () => {
  it('keeps at most maxQueued events for a stalled client, then tells it how many it missed', () => {
    const hub = new LiveHub({ maxQueued: 10, keepAliveMs: 60_000 });
    const res = new SlowResponse();
    hub.attach(res as unknown as ServerResponse);
    for (let i = 0; i < 500; i++) hub.publish({ type: 'up', data: { fCnt: i } });
    // One frame went to the socket (which then reported full); ten wait; the rest were dropped.
    expect(hub.queuedFrames()).toBe(10);
    const before = res.written.length;
    res.accepting = true;
    res.emit('drain');
    const after = res.written.slice(before);
    expect(after[0]).toBe('event: dropped\ndata: 489\n\n');
    expect(after.slice(1).map((f) => JSON.parse(/data: (.*)\n/.exec(f)?.[1] ?? '{}').fCnt)).toEqual([
      490, 491, 492, 493, 494, 495, 496, 497, 498, 499,
    ]);
    expect(hub.queuedFrames()).toBe(0);
    res.emit('close');
    expect(hub.clientCount).toBe(0);
    hub.close();
  });
});
