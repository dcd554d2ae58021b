/**
 * What the event loop and the SQLite writer thread (sqlite-writer-worker.ts)
 * say to each other. Everything here crosses a structured clone: plain data
 * only, errors flattened and rebuilt as the same MaverickError on this side.
 */
import { type ErrorCodeValue, MaverickError } from '../../proto/errors.js';
import type { SqliteDriverName, SqlValue } from './sqlite-adapters.js';

/**
 * One statement of a write transaction. `expect` makes the writer roll the
 * whole transaction back and answer `stale` instead of committing:
 * - `insert`: the row must not exist yet (a primary-key clash means the
 *   caller's picture of the table is out of date);
 * - `one-row`: exactly one row must change (an optimistic check such as
 *   "this document still has the revision I read").
 */
export interface WriteStep {
  sql: string;
  params: SqlValue[];
  expect?: 'insert' | 'one-row';
}

/**
 * Steps that share one statement and expectation, as they cross to the writer
 * thread: their parameters end to end, `width` per step. One group of N rows
 * is one SQL string and one flat array in the structured clone, instead of N
 * step objects each carrying the SQL text and an array of its own (the clone
 * of those was the biggest single cost of handing a batch to the writer).
 */
export interface StepGroup {
  sql: string;
  expect?: 'insert' | 'one-row';
  /** Parameters per step (0 for a statement without any). */
  width: number;
  /** How many steps: params.length / width, or the count of a parameterless statement. */
  count: number;
  params: SqlValue[];
}

/** Consecutive steps with the same statement and expectation become one group, in order. */
export function groupSteps(steps: readonly WriteStep[]): StepGroup[] {
  const groups: StepGroup[] = [];
  let last: StepGroup | undefined;
  for (const step of steps) {
    if (!last || last.sql !== step.sql || last.expect !== step.expect || last.width !== step.params.length) {
      last = { sql: step.sql, width: step.params.length, count: 0, params: [] };
      if (step.expect) last.expect = step.expect;
      groups.push(last);
    }
    for (const value of step.params) last.params.push(value);
    last.count++;
  }
  return groups;
}

export interface WriterSettings {
  file: string;
  driver: SqliteDriverName;
  synchronous: string;
  busyTimeoutMs: number;
}

/**
 * One writer thread serves every database file of the process; each message
 * names its file. `closed` is set (Atomics) once the file's connection is
 * closed, so the event loop can wait for it synchronously.
 */
export type ToWriter =
  | ({ kind: 'open'; id: number } & WriterSettings)
  /** One transaction: every group's steps in order; `stale` names the failing step by its index over all groups. */
  | { kind: 'write'; id: number; file: string; operation: string; groups: StepGroup[] }
  /** A per-connection setting (e.g. `max_page_count = N`) the writer's connection must share. */
  | { kind: 'pragma'; id: number; file: string; statement: string }
  | { kind: 'close'; file: string; closed: Int32Array };

export interface FlatError {
  code: number;
  /** The message without the hint MaverickError appends. */
  message: string;
  hint?: string;
  context?: Record<string, unknown>;
  cause?: { message: string; code?: unknown; errcode?: unknown };
}

export type FromWriter =
  | { kind: 'committed'; id: number }
  /** A step's expectation failed; nothing of the transaction was kept. */
  | { kind: 'stale'; id: number; step: number }
  | { kind: 'failed'; id: number; error: FlatError };

export function flattenError(err: MaverickError): FlatError {
  const message = err.hint ? err.message.slice(0, err.message.length - err.hint.length - 3) : err.message;
  const cause = err.cause as { message?: unknown; code?: unknown; errcode?: unknown } | undefined;
  return {
    code: err.code,
    message,
    ...(err.hint ? { hint: err.hint } : {}),
    ...(err.context ? { context: err.context } : {}),
    ...(cause && typeof cause === 'object'
      ? { cause: { message: String(cause.message), code: cause.code, errcode: cause.errcode } }
      : {}),
  };
}

/** The MaverickError the writer thread raised, rebuilt with its class, code, hint and context. */
export function rebuildError(flat: FlatError): MaverickError {
  const cause = flat.cause
    ? Object.assign(new Error(flat.cause.message), { code: flat.cause.code, errcode: flat.cause.errcode })
    : undefined;
  return new MaverickError(flat.code as ErrorCodeValue, flat.message, {
    ...(flat.hint ? { hint: flat.hint } : {}),
    ...(flat.context ? { context: flat.context } : {}),
    ...(cause ? { cause } : {}),
  });
}
