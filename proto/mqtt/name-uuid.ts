/**
 * Name-based UUIDs (RFC 9562 §5.5, version 5: SHA-1 of a namespace UUID and a
 * name). ChirpStack identifies tenants, applications and device profiles by
 * UUID; Maverick names them, so it derives their UUIDs from the names: the
 * same name gives the same UUID on every gateway and after every restart.
 */
import { createHash } from 'node:crypto';

/** Maverick's namespace (a random v4 UUID chosen once; never change it, ids derive from it). */
export const MAVERICK_NAMESPACE = '3f8e6a52-9c1d-4b7e-a0f4-5d2c8b91e6a7';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** UUIDs already derived: every event names its tenant, application and profile (3 SHA-1s otherwise). */
const derived = new Map<string, string>();
const MAX_DERIVED = 4096;

export function nameUuid(name: string, namespace: string = MAVERICK_NAMESPACE): string {
  const key = `${namespace} ${name}`;
  const known = derived.get(key);
  if (known !== undefined) return known;
  const uuid = deriveNameUuid(name, namespace);
  // A bound, so names made of untrusted input cannot grow it without end.
  if (derived.size >= MAX_DERIVED) derived.clear();
  derived.set(key, uuid);
  return uuid;
}

function deriveNameUuid(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The ChirpStack ids of Maverick's one tenant, an application and a device profile. */
export const tenantUuid = (tenant: string): string => nameUuid(`tenant:${tenant}`);
export const applicationUuid = (applicationId: string): string => nameUuid(`application:${applicationId}`);
export const deviceProfileUuid = (profile: string): string => nameUuid(`device-profile:${profile}`);
