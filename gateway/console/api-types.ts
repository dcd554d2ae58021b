/**
 * What the console server needs of its API without loading it: the data it is
 * given, the request's shape, and HTTP errors. The API itself (api.ts, with its
 * zod schemas and the database queries behind the routes) is loaded at the
 * first API request, so a gateway whose console nobody opens never holds it.
 */
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import type { NetworkServer } from '../../kernel/ns/index.js';
import type { NetworkRepository } from '../../kernel/ns/repository.js';
import type { RegionId } from '../../kernel/ns/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { DeviceHealthBoard } from './device-health.js';

export interface ConsoleData {
  db: FarmDatabase;
  repository: NetworkRepository;
  ns: NetworkServer;
  health: DeviceHealthBoard;
  regionId: RegionId;
  /** The gateway's status (gateway/metrics StatusSnapshot and more) for the overview. */
  overview(): Promise<Record<string, unknown>>;
  /** `maverick doctor`'s findings with their fixes; absent when not wired (tests). */
  doctor?: () => Promise<unknown>;
  /** Seals pending uplinks now; absent when sealing is off (no gateway key). */
  sealNow?: () => Promise<unknown>;
  now: () => number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ApiRequest {
  method: string;
  /** Path segments after /api/. */
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

/** A MaverickError becomes a 400 with its message and hint; anything else is a 500. */
export function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof MaverickError) {
    const status = err.code === ErrorCode.LorawanUnknownDevice ? 404 : 400;
    return new HttpError(status, err.message);
  }
  return new HttpError(500, 'internal error (see the gateway log)');
}
