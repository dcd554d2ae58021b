import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../../proto/errors.js';
import { csvLine, parseCsv } from './csv.js';

describe('CSV', () => {
  it('reads quoted fields, doubled quotes, CRLF and embedded line breaks, with their line numbers', () => {
    const rows = parseCsv('a,b,c\r\n"x, y","say ""hi""","two\nlines"\n\nlast,,\n');
    expect(rows).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\nlines'] },
      { line: 5, fields: ['last', '', ''] },
    ]);
  });

  it('names the line of a quote never closed', () => {
    let err: unknown;
    try {
      parseCsv('a,b\n"open,x\n');
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err)).toBe(true);
    expect((err as Error).message).toMatch(/line 2/);
  });

  it('round-trips any fields through csvLine and parseCsv', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 5 }), { maxLength: 10 }),
        (table) => {
          const text = table.map((r) => csvLine(r)).join('');
          expect(parseCsv(text).map((r) => r.fields)).toEqual(table);
        },
      ),
    );
  });
});
