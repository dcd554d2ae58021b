/**
 * Maps what SQLite drivers throw onto Maverick's coded errors, so callers can
 * tell "the disk is full" from "the file is damaged" from "a bug" without
 * knowing which driver (better-sqlite3 or node:sqlite) is underneath.
 *
 * better-sqlite3 throws `SqliteError` with a string `code` ('SQLITE_FULL',
 * 'SQLITE_IOERR_WRITE', …); node:sqlite throws an Error whose `errcode` is the
 * numeric (extended) result code. Primary result codes are from
 * https://www.sqlite.org/rescode.html (the low 8 bits of an extended code).
 */
import { ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';

export const SQLITE_CONSTRAINT = 19;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;

const primaryByName: Record<string, number> = {
  SQLITE_CONSTRAINT,
  SQLITE_CORRUPT,
  SQLITE_FULL,
  SQLITE_NOTADB,
};

/** The primary SQLite result code of a driver error, when it carries one. */
export function sqlitePrimaryCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; errcode?: unknown };
  if (typeof record.errcode === 'number') return record.errcode & 0xff;
  if (typeof record.code === 'string' && record.code.startsWith('SQLITE_')) {
    // 'SQLITE_IOERR_WRITE' → 'SQLITE_IOERR': extended names add a suffix.
    const primaryName = record.code.split('_').slice(0, 2).join('_');
    return primaryByName[primaryName] ?? -1;
  }
  return undefined;
}

function isDiskFull(err: unknown): boolean {
  if (sqlitePrimaryCode(err) === SQLITE_FULL) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function isCorruption(err: unknown): boolean {
  const primary = sqlitePrimaryCode(err);
  return primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB;
}

export function corruptStoreError(file: string, detail: string, cause?: unknown): MaverickError {
  return new MaverickError(ErrorCode.StoreCorrupt, `The database file ${file} is damaged: ${detail}`, {
    hint:
      'stop Maverick, move the file (and its -wal/-shm files) aside, then restore it from a backup ' +
      'or let Maverick start with an empty store',
    context: { file },
    cause,
  });
}

/**
 * Turns a driver error into a MaverickError (disk full, corrupt) or returns a
 * StoreIo error for anything else; MaverickErrors pass through unchanged.
 */
export function translateSqliteError(err: unknown, file: string, operation: string): MaverickError {
  if (isMaverickError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isDiskFull(err)) {
    return new MaverickError(
      ErrorCode.StoreDiskFull,
      `No space left for the database ${file} while ${operation}; the write was rolled back and nothing stored earlier is lost`,
      {
        hint: 'free disk space (or raise the store quota) and retry; reads keep working meanwhile',
        context: { file, operation },
        cause: err,
      },
    );
  }
  if (isCorruption(err)) return corruptStoreError(file, message, err);
  return new MaverickError(ErrorCode.StoreIo, `SQLite failed while ${operation} on ${file}: ${message}`, {
    context: { file, operation },
    cause: err,
  });
}
