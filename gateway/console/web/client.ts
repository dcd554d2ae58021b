/** The console API from the page: same-origin fetch with the session cookie and the CSRF token on every change. */

let csrf = '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function setCsrf(token: string): void {
  csrf = token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json().catch(() => ({}))) as { error?: string; hint?: string };
  if (!response.ok) {
    throw new ApiError(
      response.status,
      `${json.error ?? response.statusText}${json.hint ? ` (${json.hint})` : ''}`,
    );
  }
  return json as T;
}

/** A row of the device table: the server's per-device health (gateway/console/device-health.ts). */
export type { DeviceHealth as DeviceRow } from '../health-types.js';

export interface UpEvent {
  devEui: string;
  fCnt: number;
  fPort?: number;
  time: string;
  rssi?: number;
  snr?: number;
  object?: Record<string, unknown>;
  errors?: string[];
}
