/**
 * A copy of JSON-shaped data exactly as `JSON.parse(JSON.stringify(value))`
 * would give it, without building the text in between: undefined, functions
 * and symbols vanish from objects and become null in arrays, non-finite
 * numbers become null, `toJSON()` is honoured (a Date becomes its ISO
 * string), a bigint is refused. RxDB stores plain JSON, and an uplink's
 * metadata and decoded object may hold undefined fields or objects shared
 * with other consumers; this copy is what the ingest hot path stores (the
 * JSON round trip cost about twice as much CPU per uplink).
 */

/** Deeper than this is taken for a cycle (JSON.stringify would throw on one too). */
const MAX_DEPTH = 100;

export function plainJsonCopy(value: unknown): unknown {
  return copy(value, 0);
}

/**
 * `value` itself when it already is what the JSON round trip gives (plain
 * objects and arrays, finite numbers, no undefined, no toJSON), else
 * plainJsonCopy(value). Checking allocates nothing, so the common case (an
 * uplink's metadata and decoded object, plain already) costs no copy; the
 * result then shares its objects with the caller, who must not change them.
 */
export function asPlainJson(value: unknown): unknown {
  return isPlainJson(value, 0) ? value : copy(value, 0);
}

function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          if (item === undefined || !isPlainJson(item, depth + 1)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || !isPlainJson(item, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function copy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // -0 prints as 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'bigint':
      throw new TypeError('a BigInt cannot be stored as JSON');
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) throw new TypeError(`value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return copy(toJSON.call(value), depth + 1);
      if (Array.isArray(value)) {
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1) ?? null;
        return out;
      }
      const out: Record<string, unknown> = {};
      // for…in with an own-property check walks the keys JSON.stringify walks, in the same
      // order, without allocating the array Object.keys() would (one per object per uplink).
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const item = copy((value as Record<string, unknown>)[key], depth + 1);
        if (item === undefined) continue;
        // A key named __proto__ is an own property in JSON.parse's result, not the prototype.
        if (key === '__proto__')
          Object.defineProperty(out, key, {
            value: item,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else out[key] = item;
      }
      return out;
    }
    default:
      // undefined, functions and symbols: no JSON value.
      return undefined;
  }
}
