/** install.sh, reset_lgw.sh and the udev rules: syntax, dry runs, and the facts they must carry. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const hw = resolve(import.meta.dirname, '..', 'hardware');
const bash = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync('bash', args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('install.sh', () => {
  it('is valid bash with strict mode', () => {
    expect(bash(['-n', `${hw}/install.sh`]).code).toBe(0);
    expect(readFileSync(`${hw}/install.sh`, 'utf8')).toContain('set -euo pipefail');
  });

  it('--dry-run prints the plan for a board and changes nothing', () => {
    const { code, out } = bash([`${hw}/install.sh`, '--dry-run', '--board', 'rak2287', '--region', 'eu868']);
    expect(code, out).toBe(0);
    for (const step of [
      '==> packages',
      '==> Node.js',
      '==> users',
      '==> udev rules',
      '==> systemd units',
      '==> data directory',
    ]) {
      expect(out).toContain(step);
    }
    // Every change is announced as "would run", none is executed.
    expect(out).not.toMatch(/^ {4}run: /m);
    expect(out).toMatch(/would run: .*|ok: /);
    expect(out).toMatch(
      /(would run: install -D -m 0644 \S+ \/etc\/systemd\/system\/maverick\.service|ok: \/etc\/systemd\/system\/maverick\.service)/,
    );
    expect(out).toMatch(/maverick init --data-dir \/var\/lib\/maverick --region EU868|already initialised/);
  });

  it('takes the region in any case (EU868 as well as eu868)', () => {
    const { code, out } = bash([`${hw}/install.sh`, '--dry-run', '--board', 'rak2287', '--region', 'EU868']);
    expect(code, out).toBe(0);
    expect(out).toMatch(
      /rak2287-eu868|maverick init --data-dir \/var\/lib\/maverick --region EU868|already initialised/,
    );
  });

  it('rejects an unknown board or option with a clear message', () => {
    const board = bash([`${hw}/install.sh`, '--dry-run', '--board', 'rak9999', '--region', 'eu868']);
    expect(board.code).toBe(2);
    expect(board.out).toContain("unknown board 'rak9999'");
    const region = bash([`${hw}/install.sh`, '--dry-run', '--board', 'rak2287']);
    expect(region.code).toBe(2);
    expect(region.out).toContain(
      'needs --region, one of: as923-1 as923-2 as923-3 as923-4 au915 eu868 in865 kr920 us915',
    );
    const unknown = bash([`${hw}/install.sh`, '--dry-run', '--board', 'rak2287', '--region', 'eu433']);
    expect(unknown.code).toBe(2);
    const mixedCase = bash([`${hw}/install.sh`, '--dry-run', '--board', 'ic880a', '--region', 'AS923-2']);
    expect(mixedCase.code).toBe(0);
    expect(mixedCase.out).toMatch(/ic880a-as923-2|--region AS923-2/);
    expect(bash([`${hw}/install.sh`, '--frobnicate']).code).toBe(2);
  });
});

describe('reset_lgw.sh', () => {
  it('pulses the reset line through gpioset (libgpiod), never sysfs', () => {
    const script = readFileSync(`${hw}/scripts/reset_lgw.sh`, 'utf8');
    expect(bash(['-n', `${hw}/scripts/reset_lgw.sh`]).code).toBe(0);
    expect(script).not.toMatch(/^[^#]*\/sys\/class\/gpio/m);
    const { code, out } = bash([`${hw}/scripts/reset_lgw.sh`, 'start', '--dry-run'], {
      MAVERICK_RESET_ENV: '/nonexistent',
    });
    expect(code, out).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('would run: gpioset'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/17=1/);
    expect(lines[1]).toMatch(/17=0/);
  });

  it('takes CoreCell pins (reset 23, power 18, SX1261 22) from the environment', () => {
    const { out } = bash([`${hw}/scripts/reset_lgw.sh`, 'start', '--dry-run'], {
      MAVERICK_RESET_ENV: '/nonexistent',
      MAVERICK_LGW_RESET_PIN: '23',
      MAVERICK_LGW_POWER_EN_PIN: '18',
      MAVERICK_SX1261_RESET_PIN: '22',
    });
    const order = out
      .split('\n')
      .filter((l) => l.startsWith('would run:'))
      .map((l) => l.match(/ (\d+=\d)/)?.[1]);
    expect(order).toEqual(['18=1', '23=1', '23=0', '22=0', '22=1']);
  });

  it('refuses a pin that is not a number and an unknown action', () => {
    expect(
      bash([`${hw}/scripts/reset_lgw.sh`, 'start', '--dry-run'], {
        MAVERICK_RESET_ENV: '/x',
        MAVERICK_LGW_RESET_PIN: '17; rm -rf /',
      }).code,
    ).toBe(2);
    expect(bash([`${hw}/scripts/reset_lgw.sh`, 'explode']).code).toBe(2);
  });
});

describe('udev rules', () => {
  const rules = readFileSync(`${hw}/udev/99-maverick.rules`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));

  it('every rule matches a tty by USB vendor/product and sets group dialout, mode 0660', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const pairs = rule.split(/,\s*/);
      for (const pair of pairs) expect(pair, rule).toMatch(/^[A-Z_]+(\{[A-Za-z_]+\})?(==|\+=|=)"[^"]*"$/);
      expect(rule).toMatch(/SUBSYSTEM=="tty"/);
      expect(rule).toMatch(/ATTRS\{idVendor\}=="[0-9a-f]{4}"/);
      expect(rule).toMatch(/ATTRS\{idProduct\}=="[0-9a-f]{4}"/);
      expect(rule).toContain('GROUP="dialout"');
      expect(rule).toContain('MODE="0660"');
    }
  });

  it('names the concentrator (STM32 CDC) and the satellite modem (FTDI, CP210x, CH340)', () => {
    const named = (id: string) =>
      rules.find((r) =>
        r.includes(`ATTRS{idVendor}=="${id.split(':')[0]}", ATTRS{idProduct}=="${id.split(':')[1]}"`),
      );
    expect(named('0483:5740')).toContain('SYMLINK+="maverick-concentrator"');
    for (const id of ['0403:6001', '0403:6015', '10c4:ea60', '1a86:7523']) {
      expect(named(id), id).toContain('SYMLINK+="maverick-satmodem"');
    }
  });
});
