/**
 * A radio error crosses between threads as plain data and is rebuilt as the
 * MaverickError it was (code, message, hint), so callers see the same error
 * whichever thread reads the socket.
 */
import { ErrorCode, type ErrorCodeValue, isMaverickError, MaverickError } from '../../proto/errors.js';
import type { FlatRadioError } from './semtech-udp-thread-protocol.js';

export function flattenRadioError(err: unknown): FlatRadioError {
  if (!isMaverickError(err)) {
    return { code: ErrorCode.RadioTxRejected, message: err instanceof Error ? err.message : String(err) };
  }
  // The constructor appended " (hint)" to the message; the rebuilt error appends it again.
  const message = err.hint ? err.message.slice(0, err.message.length - err.hint.length - 3) : err.message;
  return err.hint ? { code: err.code, message, hint: err.hint } : { code: err.code, message };
}

export function rebuildRadioError(flat: FlatRadioError): MaverickError {
  return new MaverickError(flat.code as ErrorCodeValue, flat.message, flat.hint ? { hint: flat.hint } : {});
}
