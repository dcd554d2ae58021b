/**
 * CSV (RFC 4180) both ways: `parseCsv` for `maverick device import`, and
 * `csvField` / `csvLine` for `maverick uplinks export`. Fields with a comma,
 * a quote or a line break are quoted, quotes doubled.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export interface CsvRow {
  /** 1-based line in the file where the record starts. */
  line: number;
  fields: string[];
}

/** Parses CSV text into records; a quote left open is an error naming its line. */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      `CSV: the quoted field opened on line ${rowLine} is never closed`,
    );
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text =
    typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
