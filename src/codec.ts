/**
 * Turns envelopes into wire text and back, and decides what input to refuse.
 * Bodies use a dedicated superjson instance (never the global default, which
 * application code may configure differently); plain JSON bodies skip it.
 */
import { SuperJSON } from 'superjson';
import type { Envelope } from './envelope.js';
import { envelopeProblem } from './envelope.js';
import { InvalidMessageError, MessageTooLargeError, RedisActorsError } from './errors.js';
import { errorDetails, reviveFrameworkError } from './wire-errors.js';

/** Refusal of an incoming payload: why, in a short stable form used for counting and logs. */
export class Refusal {
  constructor(
    /** Short stable reason, e.g. `not-json`; the key under which drops are counted. */
    readonly reason: string,
    /** Human-readable detail for the log line. */
    readonly detail: string,
  ) {}
}

const UNSAFE_PATH = /(?:^|[."])(?:__proto__|constructor|prototype)(?:[."]|$)/;
/** Deeper than this, the fast plain-JSON check gives up and superjson takes over (it handles cycles). */
const PLAIN_CHECK_DEPTH = 32;

type JSONValue = Parameters<SuperJSON['deserialize']>[0]['json'];

interface SerializedFrameworkError {
  name: string;
  code: string;
  message: string;
  stack: string | null;
  details: Record<string, unknown>;
}

function createSuperJson(): SuperJSON {
  const superjson = new SuperJSON();
  superjson.allowErrorProps('code', 'stack');
  // Framework errors inside bodies come back as instances of their own class.
  superjson.registerCustom<RedisActorsError, JSONValue>(
    {
      isApplicable: (value): value is RedisActorsError => value instanceof RedisActorsError,
      serialize: (error) => ({
        name: error.name,
        code: error.code,
        message: error.message,
        stack: error.stack ?? null,
        details: errorDetails(error) as JSONValue,
      }),
      deserialize: (value) => {
        const data = value as unknown as SerializedFrameworkError;
        return reviveFrameworkError(
          data.name,
          data.code,
          data.message,
          data.stack ?? undefined,
          data.details,
        );
      },
    },
    'redis-actors-error',
  );
  return superjson;
}

/** Whether `value` is already plain JSON, so superjson can be skipped. */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > PLAIN_CHECK_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
        }
        return true;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Path of the first value superjson would silently drop or mangle (functions,
 * symbols, promises, weak collections), or `undefined` when there is none.
 */
function unsupportedValuePath(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol')
    return `${path} (a ${typeof value})`;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) {
    return `${path} (a ${value.constructor.name})`;
  }
  seen.add(value);
  const entries: Iterable<[unknown, unknown]> =
    value instanceof Map
      ? value.entries()
      : value instanceof Set
        ? [...value].map((item, index) => [index, item])
        : ArrayBuffer.isView(value)
          ? []
          : Object.entries(value);
  for (const [key, item] of entries) {
    const found = unsupportedValuePath(item, `${path}.${String(key)}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Whether a parsed JSON value has an own `__proto__` key anywhere. */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  for (const item of Object.values(value)) if (hasProtoKey(item)) return true;
  return false;
}

export interface CodecLimits {
  /** Largest encoded message accepted or sent, in bytes. */
  maxMessageBytes: number;
}

/** Encodes and decodes envelopes within the given limits. */
export class Codec {
  private readonly superjson = createSuperJson();

  constructor(private readonly limits: CodecLimits) {}

  /** Sets `body` (and `meta` when needed) on `envelope` from a JavaScript value. */
  setBody(envelope: Envelope, body: unknown): void {
    if (body === undefined) return;
    if (isPlainJson(body, 0)) {
      envelope.body = body;
      return;
    }
    const unsupported = unsupportedValuePath(body, 'body', new Set());
    if (unsupported !== undefined) {
      throw new InvalidMessageError(
        'unserializable-body',
        `cannot send this body: ${unsupported} cannot travel between processes. ` +
          `Send data: JSON values, Date, Map, Set, BigInt, undefined, RegExp, URL, typed arrays, errors.`,
      );
    }
    let serialized: ReturnType<SuperJSON['serialize']>;
    try {
      serialized = this.superjson.serialize(body);
    } catch (cause) {
      throw new InvalidMessageError(
        'unserializable-body',
        `cannot send this body: ${(cause as Error).message}. Bodies may hold JSON values, ` +
          `Date, Map, Set, BigInt, undefined, RegExp, URL, typed arrays and errors.`,
      );
    }
    envelope.body = serialized.json;
    if (serialized.meta !== undefined) envelope.meta = serialized.meta;
  }

  /** Serialises an envelope; throws {@link MessageTooLargeError} over the limit. */
  encode(envelope: Envelope): string {
    const text = JSON.stringify(envelope);
    // A UTF-16 code unit is at most 3 UTF-8 bytes, so most texts need no exact count.
    if (text.length * 3 > this.limits.maxMessageBytes) {
      const size = Buffer.byteLength(text);
      if (size > this.limits.maxMessageBytes) {
        throw new MessageTooLargeError(size, this.limits.maxMessageBytes);
      }
    }
    return text;
  }

  /** Parses and validates one payload from a mailbox. */
  decode(payload: Buffer): Envelope | Refusal {
    if (payload.length > this.limits.maxMessageBytes) {
      return new Refusal(
        'oversized',
        `${payload.length} bytes, limit ${this.limits.maxMessageBytes}`,
      );
    }
    const text = payload.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return new Refusal('not-json', (error as Error).message);
    }
    if (text.includes('"__proto__"') && hasProtoKey(value)) {
      return new Refusal('unsafe-key', 'an own "__proto__" key is not accepted');
    }
    const problem = envelopeProblem(value);
    if (problem !== undefined) {
      const colon = problem.indexOf(':');
      return new Refusal(problem.slice(0, colon), problem.slice(colon + 2));
    }
    const envelope = value as Envelope;
    if (envelope.meta !== undefined) {
      const metaText = JSON.stringify(envelope.meta);
      if (UNSAFE_PATH.test(metaText)) {
        return new Refusal(
          'unsafe-meta',
          'superjson meta names a __proto__, constructor or prototype path',
        );
      }
    }
    return envelope;
  }

  /** The body of a decoded envelope as a JavaScript value. */
  body(envelope: Envelope): unknown {
    if (envelope.meta === undefined) return envelope.body;
    try {
      return this.superjson.deserialize({
        json: envelope.body as never,
        meta: envelope.meta as never,
      });
    } catch (cause) {
      throw new InvalidMessageError(
        'invalid-body',
        `cannot decode the body of message ${envelope.id}: ${(cause as Error).message}`,
      );
    }
  }
}
