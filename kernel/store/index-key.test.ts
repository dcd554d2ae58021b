import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeIndexKey, encodeIndexKey } from './index-key.js';
import { acquireSqliteConnection } from './sqlite-driver.js';

/** SQLite's BINARY collation is memcmp over UTF-8. */
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const jsOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
// Any UTF-16 code units, lone surrogates included.
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
);
const tricky = fc.string({
  unit: fc.constantFrom('a', '\uE000', '\uFFFF', '\uFFFD', '😀', '\uD800', '\uDFFF', '\u0000', 'é'),
  maxLength: 6,
});

describe('index keys (order-mapped TEXT)', () => {
  it('byte order equals JavaScript string order', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, tricky), fc.oneof(anyString, tricky), (a, b) => {
        expect(Math.sign(Buffer.compare(utf8(encodeIndexKey(a)), utf8(encodeIndexKey(b))))).toBe(
          jsOrder(a, b),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every string', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(decodeIndexKey(encodeIndexKey(s))).toBe(s);
      }),
    );
  });

  it('an astral character sorts before U+FFFF, unlike plain UTF-8; keys below U+D800 stay as they are', () => {
    expect(encodeIndexKey('0abc12')).toBe('0abc12');
    expect('😀' < '\uFFFF').toBe(true);
    expect(Buffer.compare(utf8(encodeIndexKey('😀')), utf8(encodeIndexKey('\uFFFF')))).toBe(-1);
    expect(Buffer.compare(Buffer.from('😀'), Buffer.from('\uFFFF'))).toBe(1);
  });

  it('SQLite ORDER BY over the key column gives JavaScript order', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'maverick-index-key-'));
    const connection = await acquireSqliteConnection(join(directory, 'keys.sqlite'));
    try {
      connection.exec('CREATE TABLE k (s TEXT NOT NULL, key TEXT NOT NULL)');
      const strings = fc.sample(fc.oneof(anyString, tricky), { numRuns: 300, seed: 42 });
      connection.transaction('test', () => {
        for (const s of strings)
          connection.prepare('INSERT INTO k (s, key) VALUES (?, ?)').run(s, encodeIndexKey(s));
      });
      const ordered = connection.prepare('SELECT key FROM k ORDER BY key').all();
      expect(ordered.map((row) => decodeIndexKey(row.key as string))).toEqual([...strings].sort(jsOrder));
    } finally {
      connection.release();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
