/** Address helpers shared by every listener that must know whether it faces the network. */
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1, localhost and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * A URL fit for a log line: a password in it (mqtt://user:secret@host) is replaced by "***".
 * Anything that does not parse as a URL is returned as "(unparseable url)", never echoed.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparseable url)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
