// What ctx.customData shares with handlers in another language (Python's
// context.custom_data): the store interface and which values can cross.

/** A store in another language holding the values both sides see (a Python context's custom_data). */
export interface SharedStore {
  /** The value under `key` as a copy, or found: false (absent, or a value TypeScript cannot hold). */
  get(key: string): { found: boolean; value?: unknown };
  set(key: string, value: unknown): void;
  delete(key: string): boolean;
  keys(): string[];
}

/**
 * Whether a value crosses to the other language and back unchanged: null, booleans, numbers,
 * bigints, strings, Buffers and typed arrays, and arrays and plain objects of those. Anything
 * else (functions, class instances such as a Connection, Map, Set, Date, undefined) would arrive
 * changed or not at all, so it stays on the TypeScript side only.
 */
export function crosses(value: unknown, depth = 0): boolean {
  if (depth > 100) return false; // deeper than any data a handler shares; a cycle
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'string':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (ArrayBuffer.isView(value)) return !(value instanceof DataView);
  if (Array.isArray(value)) return value.every((v) => crosses(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((v) => crosses(v, depth + 1));
}
