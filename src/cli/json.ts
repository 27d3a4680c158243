/**
 * Reply bodies as JSON for the terminal: types JSON lacks get a readable form
 * (Map → object or entry list, Set → array, BigInt → string, undefined → null,
 * errors → { name, message, code }).
 */
export function toPrintableJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(toJsonValue(value, new Set()), null, pretty ? 2 : undefined);
}

function toJsonValue(value: unknown, seen: Set<object>): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) {
      const { code } = value as { code?: unknown };
      return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
    }
    if (value instanceof Map) {
      const entries = [...value.entries()];
      return entries.every(([key]) => typeof key === 'string')
        ? Object.fromEntries(entries.map(([key, item]) => [key, toJsonValue(item, seen)]))
        : entries.map(([key, item]) => [toJsonValue(key, seen), toJsonValue(item, seen)]);
    }
    if (value instanceof Set) return [...value].map((item) => toJsonValue(item, seen));
    if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
    if (Array.isArray(value)) return value.map((item) => toJsonValue(item, seen));
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toJsonValue(item, seen)]),
    );
  } finally {
    seen.delete(value);
  }
}
