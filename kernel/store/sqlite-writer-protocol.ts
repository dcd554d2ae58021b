/**
 * What the event loop and the SQLite writer thread (sqlite-writer-worker.ts)
 * say to each other. Everything here crosses a structured clone: plain data
 * only, errors flattened and rebuilt as the same MaverickError on this side.
 */
import type { FlatError } from '../../proto/thread-errors.js';
import type { SqliteDriverName, SqlValue } from './sqlite-adapters.js';

export { type FlatError, flattenError, rebuildError } from '../../proto/thread-errors.js';

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

export type FromWriter =
  | { kind: 'committed'; id: number }
  /** A step's expectation failed; nothing of the transaction was kept. */
  | { kind: 'stale'; id: number; step: number }
  | { kind: 'failed'; id: number; error: FlatError };
