/**
 * A MaverickError carried from one thread to another. postMessage clones an
 * Error as a plain Error (its class, code, hint and context are lost), so a
 * thread sends this flat form and the receiver rebuilds the same MaverickError.
 */
import { type ErrorCodeValue, MaverickError } from './errors.js';

export interface FlatError {
  code: number;
  /** The message without the hint MaverickError appends. */
  message: string;
  hint?: string;
  context?: Record<string, unknown>;
  cause?: { message: string; code?: unknown; errcode?: unknown };
}

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

/** The MaverickError the other thread raised, rebuilt with its class, code, hint and context. */
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
