/**
 * Console sessions: a random session id in an HttpOnly cookie, a CSRF token
 * per session that every state-changing request must echo in a header, and a
 * back-off on failed logins per client address. Everything lives in memory:
 * a gateway restart logs everyone out, which is the safe default.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'maverick_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  readonly id: string;
  readonly csrf: string;
  expiresAt: number;
}

export interface SessionOptions {
  /** Idle lifetime of a session (default 12 h: a working day in the field). */
  idleMs?: number;
  /** At most this many live sessions; the oldest is dropped first. */
  maxSessions?: number;
  now?: () => number;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionOptions = {}) {
    this.idleMs = options.idleMs ?? 12 * 3_600_000;
    this.maxSessions = options.maxSessions ?? 64;
    this.now = options.now ?? Date.now;
  }

  create(): ConsoleSession {
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const session = { id: token(), csrf: token(), expiresAt: this.now() + this.idleMs };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for a cookie value (its idle timer restarts), or undefined. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    session.expiresAt = this.now() + this.idleMs;
    return session;
  }

  /** True when `presented` is this session's CSRF token (constant-time compare). */
  csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
    return typeof presented === 'string' && sameText(session.csrf, presented);
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

export interface BackoffOptions {
  /** Failures allowed before waiting starts (default 3). */
  freeFailures?: number;
  /** First wait (default 1 s), doubled per further failure up to `maxMs`. */
  baseMs?: number;
  maxMs?: number;
  now?: () => number;
}

/**
 * Failed logins per client: after `freeFailures` mistakes the client must
 * wait 1 s, 2 s, 4 s … (at most `maxMs`) before the next attempt is even
 * checked; a success clears its record. Bounded: the oldest record is
 * forgotten first once 10,000 addresses are tracked.
 */
export class LoginBackoff {
  private readonly failures = new Map<string, { count: number; until: number }>();
  private readonly freeFailures: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.freeFailures = options.freeFailures ?? 3;
    this.baseMs = options.baseMs ?? 1_000;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds the client must still wait; 0 when it may try. */
  waitMs(client: string): number {
    const record = this.failures.get(client);
    return record ? Math.max(0, record.until - this.now()) : 0;
  }

  failed(client: string): void {
    const count = (this.failures.get(client)?.count ?? 0) + 1;
    const over = count - this.freeFailures;
    const wait = over > 0 ? Math.min(this.maxMs, this.baseMs * 2 ** (over - 1)) : 0;
    this.failures.delete(client);
    if (this.failures.size >= 10_000) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(client, { count, until: this.now() + wait });
  }

  succeeded(client: string): void {
    this.failures.delete(client);
  }
}

/** Reads one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, options: { secure: boolean; maxAgeS?: number }): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeS !== undefined) parts.push(`Max-Age=${options.maxAgeS}`);
  return parts.join('; ');
}
