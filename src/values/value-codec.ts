/**
 * Shared values as JSON text that any Redis client can read: plain JSON for
 * JSON values, and two tagged objects for what JSON lacks, so a Python client
 * needs nothing but `json.loads` (and base64 for arrays):
 *
 * - typed arrays, Buffers, ArrayBuffers: `{"$binary":"Float64Array","base64":"…"}`,
 *   the elements' bytes little-endian;
 * - dates: `{"$date":"2026-11-21T03:24:02.265Z"}`.
 *
 * Everything else that JSON would drop or mangle silently (undefined, NaN,
 * ±Infinity, BigInt, functions, symbols, Map, Set, class instances, cycles) is
 * refused with InvalidMessageError naming where it is.
 */
import os from 'node:os';
import { binaryTypeOf, bytesOf, reviveBinary } from '../wire/index.js';
import { InvalidMessageError } from '../errors.js';
import {
  DEFAULT_MAX_NESTING_DEPTH,
  UNSAFE_KEYS,
  describeProblem,
  treeProblem,
} from '../wire/index.js';

const BINARY_TAG = '$binary';
const DATE_TAG = '$date';

/** Byte order of binary values on the wire; swapped on the (rare) big-endian hosts. */
const SWAP_BYTES = os.endianness() === 'BE';

/**
 * Encodes one value as the JSON text stored in its hash field. `name` only
 * serves error messages. Throws InvalidMessageError for a value that cannot
 * be stored faithfully.
 */
export function encodeValue(
  value: unknown,
  name: string,
  maxDepth: number = DEFAULT_MAX_NESTING_DEPTH,
): string {
  if (value === undefined) {
    throw refusal(name, `${name} is undefined`, 'to remove a value, use delete()');
  }
  const path: (string | number)[] = [name];
  return JSON.stringify(toJsonTree(value, path, new Set(), maxDepth));
}

/**
 * Decodes a stored field: JSON with its tags revived. Text that is not JSON
 * (written by another client, e.g. `HSET … name hello`) is returned as it is.
 * JSON nested deeper than `maxDepth`, or with an own `__proto__`,
 * `constructor` or `prototype` key (which encodeValue never writes), is
 * refused with InvalidMessageError; `where` names it in the message.
 */
export function decodeValue(
  raw: Buffer | string,
  maxDepth: number = DEFAULT_MAX_NESTING_DEPTH,
  where = 'a stored value',
): unknown {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const problem = treeProblem(parsed, maxDepth);
  if (problem !== undefined) {
    throw new InvalidMessageError(
      problem.reason,
      `${where} is refused (${describeProblem(problem)}): redis-actors never stores such a ` +
        `value, so another client wrote it there; overwrite or delete it.`,
    );
  }
  return mayNeedRevival(text) ? reviveValue(parsed) : parsed;
}

/** Whether JSON text may hold tags; false lets {@link reviveValue} be skipped. */
export function mayNeedRevival(text: string): boolean {
  return text.includes('"$');
}

/**
 * Turns tags of freshly parsed JSON back into dates and binary values, in
 * place. An object that only looks like a tag (an unknown type, bytes that
 * are not whole elements) stays a plain object. Only for values already
 * checked with treeProblem: its recursion is bounded by their depth.
 */
export function reviveValue(parsed: unknown): unknown {
  if (typeof parsed !== 'object' || parsed === null) return parsed;
  if (Array.isArray(parsed)) {
    for (let i = 0; i < parsed.length; i++) parsed[i] = reviveValue(parsed[i]);
    return parsed;
  }
  const object = parsed as Record<string, unknown>;
  const tagged = revivedTag(object);
  if (tagged !== undefined) return tagged;
  for (const key of Object.keys(object)) object[key] = reviveValue(object[key]);
  return object;
}

function revivedTag(object: Record<string, unknown>): unknown {
  const keys = Object.keys(object);
  const date = object[DATE_TAG];
  if (keys.length === 1 && typeof date === 'string') {
    const revived = new Date(date);
    return Number.isNaN(revived.getTime()) ? undefined : revived;
  }
  const type = object[BINARY_TAG];
  const base64 = object.base64;
  if (keys.length === 2 && typeof type === 'string' && typeof base64 === 'string') {
    try {
      // A copy: a view could expose the rest of Buffer's shared allocation pool.
      const revived = reviveBinary(type, Buffer.from(base64, 'base64'), false);
      if (SWAP_BYTES) swapElements(revived);
      return revived;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `value` as a tree JSON.stringify writes faithfully; containers are copied only when changed. */
function toJsonTree(
  value: unknown,
  path: (string | number)[],
  ancestors: Set<object>,
  maxDepth: number,
): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw refusal(
        String(path[0]),
        `${formatPath(path)} is ${value}, which JSON cannot hold`,
        'store null instead, or a Float64Array (which keeps NaN and ±Infinity)',
      );
    case 'object':
      if (value === null) return null;
      return objectToJsonTree(value, path, ancestors, maxDepth);
    default:
      throw refusal(
        String(path[0]),
        `${formatPath(path)} is ${describe(value)}`,
        'store data: JSON values, Date, typed arrays, Buffers, ArrayBuffers',
      );
  }
}

function objectToJsonTree(
  value: object,
  path: (string | number)[],
  ancestors: Set<object>,
  maxDepth: number,
): unknown {
  const name = String(path[0]);
  // path holds the name, then one entry per level above this one.
  if (path.length > maxDepth) {
    throw refusal(
      name,
      `${formatPath(path)} is nested deeper than ${maxDepth} levels, which readers refuse`,
      'store a flatter value',
    );
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw refusal(name, `${formatPath(path)} is an invalid Date`, 'store a valid date');
    }
    return { [DATE_TAG]: value.toISOString() };
  }
  const binaryType = binaryTypeOf(value);
  if (binaryType !== undefined) {
    const bytes = bytesOf(value as ArrayBufferView | ArrayBuffer);
    return { [BINARY_TAG]: binaryType, base64: littleEndian(value, bytes).toString('base64') };
  }
  if (ancestors.has(value)) {
    throw refusal(name, `${formatPath(path)} refers back to itself`, 'store a tree, not a cycle');
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return arrayToJsonTree(value, path, ancestors, maxDepth);
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw refusal(
        name,
        `${formatPath(path)} is ${describe(value)}`,
        value instanceof Map
          ? 'store Object.fromEntries(map) instead'
          : value instanceof Set
            ? 'store [...set] instead'
            : 'store its data as a plain object',
      );
    }
    return plainObjectToJsonTree(value as Record<string, unknown>, path, ancestors, maxDepth);
  } finally {
    ancestors.delete(value);
  }
}

function arrayToJsonTree(
  array: unknown[],
  path: (string | number)[],
  ancestors: Set<object>,
  maxDepth: number,
): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    path.push(i);
    if (!(i in array) || array[i] === undefined) {
      throw refusal(
        String(path[0]),
        `${formatPath(path)} is ${i in array ? 'undefined' : 'a hole'}, which JSON would turn into null`,
        'store null explicitly',
      );
    }
    const item = array[i];
    const converted = toJsonTree(item, path, ancestors, maxDepth);
    path.pop();
    if (converted !== item) {
      copy ??= array.slice(0, i);
      copy.push(converted);
    } else if (copy !== undefined) {
      copy.push(item);
    }
  }
  return copy ?? array;
}

function plainObjectToJsonTree(
  object: Record<string, unknown>,
  path: (string | number)[],
  ancestors: Set<object>,
  maxDepth: number,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    path.push(key);
    if (key === DATE_TAG || key === BINARY_TAG || UNSAFE_KEYS.has(key)) {
      throw refusal(
        String(path[0]),
        `${formatPath(path)}: the key "${key}" is reserved`,
        UNSAFE_KEYS.has(key)
          ? 'rename it (readers refuse keys a naive merge would follow into a prototype)'
          : 'rename it ($date and $binary mark dates and arrays)',
      );
    }
    const item = object[key];
    // As JSON.stringify does: a property set to undefined is left out.
    const converted = item === undefined ? undefined : toJsonTree(item, path, ancestors, maxDepth);
    path.pop();
    if (converted !== item) {
      copy ??= { ...object };
      copy[key] = converted;
    }
  }
  return copy ?? object;
}

/** The bytes as stored: little-endian elements. */
function littleEndian(value: object, bytes: Buffer): Buffer {
  const size = (value as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (!SWAP_BYTES || size === 1 || Buffer.isBuffer(value)) return bytes;
  return swap(Buffer.from(bytes), size);
}

function swapElements(value: ArrayBufferView | ArrayBuffer): void {
  const size = (value as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (size > 1 && !Buffer.isBuffer(value)) swap(bytesOf(value), size);
}

function swap(bytes: Buffer, size: number): Buffer {
  if (size === 2) return bytes.swap16();
  if (size === 4) return bytes.swap32();
  return bytes.swap64();
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype';
  }
  return `a ${typeof value}`;
}

function formatPath(path: readonly (string | number)[]): string {
  let text = String(path[0]);
  for (const part of path.slice(1)) {
    text +=
      typeof part === 'number'
        ? `[${part}]`
        : /^[A-Za-z_$][\w$]*$/.test(part)
          ? `.${part}`
          : `[${JSON.stringify(part)}]`;
  }
  return text;
}

function refusal(name: string, problem: string, advice: string): InvalidMessageError {
  return new InvalidMessageError(
    'unserializable-value',
    `cannot store value "${name}": ${problem}; ${advice}.`,
  );
}
