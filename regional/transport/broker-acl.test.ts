import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ackTopic, UP_FILTER, upTopic } from '../../proto/link/topics.js';
import { mosquittoInstalled } from '../../test/fixtures/mosquitto.js';
import { mosquittoPasswordLine } from '../broker-credentials.js';
import {
  type BrokerUser,
  GatewayPasswords,
  mayPublish,
  maySubscribe,
  parseMosquittoHash,
  verifyMosquittoPassword,
} from './broker-acl.js';

const hashOf = (line: string) =>
  parseMosquittoHash(line.slice(line.indexOf(':') + 1)) ?? expect.unreachable();

describe('broker ACL for the embedded broker', () => {
  it('verifies mosquitto $7$ hashes, and refuses other forms', () => {
    const entry = hashOf(mosquittoPasswordLine('gw-a', 'pw'));
    expect(verifyMosquittoPassword(entry, Buffer.from('pw'))).toBe(true);
    expect(verifyMosquittoPassword(entry, Buffer.from('pW'))).toBe(false);
    expect(parseMosquittoHash('$6$abc$def')).toBeUndefined();
    expect(parseMosquittoHash('$7$101$c2FsdA==$c2hvcnQ=')).toBeUndefined(); // a 5-byte hash
  });

  it.runIf(mosquittoInstalled())('reads a password file written by mosquitto_passwd itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maverick-passwd-'));
    try {
      const file = join(dir, 'passwd');
      execFileSync('mosquitto_passwd', ['-c', '-b', file, 'gw-x', 'from-mosquitto']);
      const entry = hashOf(readFileSync(file, 'utf8').trim());
      expect(verifyMosquittoPassword(entry, Buffer.from('from-mosquitto'))).toBe(true);
      expect(verifyMosquittoPassword(entry, Buffer.from('other'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a gateway: its own up topics and its own ack only; the regional user: up filters and acks', () => {
    const a: BrokerUser = { role: 'gateway', gatewayId: 'gw-a' };
    const node: BrokerUser = { role: 'regional' };
    expect(mayPublish(a, upTopic('gw-a', 'bundle'))).toBe(true);
    expect(mayPublish(a, upTopic('gw-a', 'commitment'))).toBe(true);
    for (const t of [upTopic('gw-b', 'bundle'), ackTopic('gw-a'), 'maverick/v1/gw/gw-a/up/other', 'x'])
      expect(mayPublish(a, t), t).toBe(false);
    expect(maySubscribe(a, ackTopic('gw-a'))).toBe(true);
    for (const f of [ackTopic('gw-b'), 'maverick/v1/gw/+/ack', 'maverick/v1/gw/gw-a/#', '#', UP_FILTER])
      expect(maySubscribe(a, f), f).toBe(false);
    expect(maySubscribe(node, UP_FILTER)).toBe(true);
    expect(maySubscribe(node, `$share/regional/${UP_FILTER}`)).toBe(true);
    expect(maySubscribe(node, '#')).toBe(false);
    expect(mayPublish(node, ackTopic('gw-a'))).toBe(true);
    expect(mayPublish(node, upTopic('gw-a', 'bundle'))).toBe(false);
  });

  it('reads a password file replaced within one tick of the file clock (same modification time)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maverick-passwd-'));
    try {
      const file = join(dir, 'passwd');
      writeFileSync(file, `${mosquittoPasswordLine('gw-a', 'a-pw')}\n`, { mode: 0o600 });
      // `gateway add` writes a new file and renames it over the old one; the kernel's coarse
      // clock can give both the very same modification time (here: a whole second, set).
      const tick = 1_764_000_000;
      utimesSync(file, tick, tick);
      const passwords = new GatewayPasswords(file);
      expect(passwords.verify('gw-a', Buffer.from('a-pw'))).toBe(true);
      const next = join(dir, 'passwd.next');
      const lines = [mosquittoPasswordLine('gw-a', 'a-pw'), mosquittoPasswordLine('gw-new', 'n-pw')];
      writeFileSync(next, `${lines.join('\n')}\n`, { mode: 0o600 });
      utimesSync(next, tick, tick);
      renameSync(next, file);
      expect(statSync(file).mtimeMs).toBe(tick * 1000);
      expect(passwords.verify('gw-new', Buffer.from('n-pw'))).toBe(true);
      expect(passwords.verify('gw-new', Buffer.from('wrong'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
