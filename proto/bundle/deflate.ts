/**
 * Raw deflate (RFC 1951) for the telemetry block, with a hard cap on the
 * inflated size so a small hostile bundle cannot expand into gigabytes.
 * zlib at a fixed level is deterministic for a given zlib build; the
 * signature covers the compressed bytes, so verification never depends on it.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { ErrorCode, MaverickError } from '../errors.js';

export const DEFAULT_MAX_INFLATED_BYTES = 16 * 1024 * 1024;

export function deflate(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(
    deflateRawSync(bytes, { level: 9, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY }),
  );
}

export function inflateCapped(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_INFLATED_BYTES): Uint8Array {
  try {
    return new Uint8Array(inflateRawSync(bytes, { maxOutputLength: maxBytes }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new MaverickError(
        ErrorCode.BundleDecompressionBomb,
        `compressed telemetry inflates beyond ${maxBytes} bytes`,
        {
          hint: 'the bundle is hostile or was sealed with a larger limit; raise maxInflatedBytes only if you trust it',
        },
      );
    }
    throw new MaverickError(ErrorCode.BundleMalformed, 'compressed telemetry is not valid raw deflate', {
      cause: err,
    });
  }
}
