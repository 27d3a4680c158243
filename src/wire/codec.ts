/**
 * Turns envelopes into wire text and back, and decides what input to refuse.
 * Bodies use a dedicated superjson instance (never the global default, which
 * application code may configure differently); plain JSON bodies skip it.
 */
import { createRequire } from 'node:module';
import type { SuperJSON } from 'superjson';
import { buildFrame, isBinaryFrame, parseFrame, sliceAttachments } from './binary-frame.js';
import { binaryTypeOf, bytesOf, reviveBinary } from './binary-values.js';
import type { Envelope } from './envelope.js';
import { dropInvalidTraceContext, envelopeProblem } from './envelope.js';
import { InvalidMessageError, MessageTooLargeError, RedisActorsError } from '../errors.js';
import { UNSAFE_KEYS, treeProblem } from './untrusted-json.js';
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

const NO_PARTS: Buffer[] = [];

/** Attachments of the message being encoded or decoded (superjson works synchronously). */
interface AttachmentContext {
  parts: Buffer[];
  /** Decoding: whether revived values may share the received memory instead of copying. */
  shareMemory: boolean;
}

interface BinaryReference {
  /** Index in the frame's attachments. */
  attachment: number;
  type: string;
}

/**
 * Loaded on the first body that is not plain JSON: most actors never need it,
 * and every child process would pay its load time before READY. Synchronous
 * (require of an ES module, supported from Node 20.19), as encoding is.
 */
const requireModule = createRequire(import.meta.url);

function createSuperJson(context: () => AttachmentContext | undefined): SuperJSON {
  const { SuperJSON: SuperJSONClass } = requireModule('superjson') as typeof import('superjson');
  const superjson = new SuperJSONClass();
  // Binary values travel as frame attachments; the body keeps a reference.
  superjson.registerCustom<ArrayBufferView | ArrayBuffer, JSONValue>(
    {
      isApplicable: (value): value is ArrayBufferView | ArrayBuffer =>
        binaryTypeOf(value) !== undefined,
      serialize: (value) => {
        const current = context();
        if (current === undefined) throw new Error('binary values can only be sent in messages');
        current.parts.push(bytesOf(value));
        return { attachment: current.parts.length - 1, type: binaryTypeOf(value) ?? '' };
      },
      deserialize: (json) => {
        const reference = json as unknown as BinaryReference;
        const bytes = context()?.parts[reference.attachment];
        if (bytes === undefined) throw new Error(`attachment ${reference.attachment} is missing`);
        return reviveBinary(reference.type, bytes, context()?.shareMemory ?? false);
      },
    },
    'binary',
  );
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

/**
 * Whether `value` is already plain JSON, so superjson can be skipped. Objects
 * deeper than `maxDepth` make it say no: the careful path then decides.
 */
function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > maxDepth) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1, maxDepth)) return false;
        }
        return true;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        // Refused on the careful path, with a message that says where.
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1, maxDepth))
          return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Path of the first value superjson would silently drop or mangle (functions,
 * symbols, promises, weak collections), of an own key receivers refuse
 * (`__proto__`, `constructor`, `prototype`), or of nesting deeper than
 * receivers accept; `undefined` when there is none. Recursion is bounded by
 * `maxDepth`.
 */
function unsupportedValuePath(
  value: unknown,
  path: string,
  seen: Set<object>,
  depth: number,
  maxDepth: number,
): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol')
    return `${path} (a ${typeof value})`;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) {
    return `${path} (a ${value.constructor.name})`;
  }
  if (depth >= maxDepth) return `${path} (nested deeper than ${maxDepth} levels)`;
  seen.add(value);
  const entries: Iterable<[unknown, unknown]> =
    value instanceof Map
      ? value.entries()
      : value instanceof Set
        ? [...value].map((item, index) => [index, item])
        : ArrayBuffer.isView(value)
          ? []
          : Object.entries(value);
  const plainKeys = !(value instanceof Map) && !(value instanceof Set);
  for (const [key, item] of entries) {
    if (plainKeys && typeof key === 'string' && UNSAFE_KEYS.has(key)) {
      return `${path}.${key} (an own "${key}" key, which receivers refuse)`;
    }
    const found = unsupportedValuePath(item, `${path}.${String(key)}`, seen, depth + 1, maxDepth);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface CodecLimits {
  /** Largest encoded message accepted or sent, in bytes. */
  maxMessageBytes: number;
  /** Deepest nesting of a body accepted or sent (see untrusted-json.ts). */
  maxNestingDepth: number;
}

/** A binary frame ready to write: its chunks (attachments not copied) and total size. */
export interface BinaryFrame {
  chunks: Buffer[];
  size: number;
}

/** An encoded message: JSON text (the common case, allocated as nothing more), or a binary frame. */
export type EncodedMessage = string | BinaryFrame;

/** Size in bytes of an encoded message. */
export function encodedSize(encoded: EncodedMessage): number {
  return typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.size;
}

/** Joins envelope texts into one batch payload: a JSON array (see Codec.decodeAll). */
export function combineEnvelopeTexts(texts: string[]): string {
  return `[${texts.join(',')}]`;
}

/** Encodes and decodes envelopes within the given limits. */
export class Codec {
  private attachmentContext: AttachmentContext | undefined;
  /** Attachments collected by the last non-plain encode. */
  private attachments: Buffer[] = NO_PARTS;
  private superjsonInstance: SuperJSON | undefined;

  private get superjson(): SuperJSON {
    this.superjsonInstance ??= createSuperJson(() => this.attachmentContext);
    return this.superjsonInstance;
  }
  /** Attachments of decoded binary frames, until their body is read. */
  private readonly attachmentsOf = new WeakMap<Envelope, AttachmentContext>();

  /** Objects nested up to here may take the plain path: never deeper than receivers accept. */
  private readonly plainCheckDepth: number;

  constructor(private readonly limits: CodecLimits) {
    this.plainCheckDepth = Math.min(PLAIN_CHECK_DEPTH, limits.maxNestingDepth - 1);
  }

  /**
   * Sets `body` on `envelope` and serialises it: JSON text, or a binary frame
   * when the body holds Buffers or typed arrays (their bytes are not copied, so
   * they must not change before the message is written, at the end of this
   * event-loop turn). Throws MessageTooLargeError over the limit,
   * InvalidMessageError for a body that cannot travel.
   */
  encode(envelope: Envelope, body: unknown): EncodedMessage {
    // The common case, a plain JSON body, allocates nothing beyond its text.
    const plain = body === undefined || isPlainJson(body, 0, this.plainCheckDepth);
    if (plain) {
      if (body !== undefined) envelope.body = body;
    } else {
      this.attachmentContext = { parts: [], shareMemory: false };
      try {
        this.setBody(envelope, body);
      } finally {
        this.attachments = this.attachmentContext.parts;
        this.attachmentContext = undefined;
      }
    }
    const parts = plain ? NO_PARTS : this.attachments;
    if (parts.length === 0) {
      const text = JSON.stringify(envelope);
      // A UTF-16 code unit is at most 3 UTF-8 bytes, so most texts need no exact count.
      if (text.length * 3 > this.limits.maxMessageBytes)
        this.assertWithinLimit(Buffer.byteLength(text));
      return text;
    }
    envelope.attachments = parts.map((part) => part.length);
    const frame = buildFrame(JSON.stringify(envelope), parts);
    this.assertWithinLimit(frame.size);
    return frame;
  }

  /**
   * Parses and validates one payload holding one envelope. `shareMemory`:
   * binary values in it may be views of `payload` (when nothing else will
   * reuse that memory).
   */
  decode(payload: Buffer, shareMemory = false): Envelope | Refusal {
    const decoded = this.decodeAll(payload, shareMemory);
    if (!Array.isArray(decoded)) return decoded;
    return decoded.length === 1 && decoded[0] !== undefined
      ? decoded[0]
      : new Refusal('not-an-envelope', 'expected one envelope, got a batch');
  }

  /**
   * Parses and validates one payload: a single envelope, or a batch (a JSON
   * array of envelopes, as merged publishes carry), each element judged on
   * its own. A refusal of the whole payload comes back as one Refusal.
   */
  decodeAll(payload: Buffer, shareMemory = false): Envelope | Refusal | (Envelope | Refusal)[] {
    if (payload.length > this.limits.maxMessageBytes) {
      return new Refusal(
        'oversized',
        `${payload.length} bytes, limit ${this.limits.maxMessageBytes}`,
      );
    }
    let text: string;
    let attachmentStarts = -1;
    if (isBinaryFrame(payload)) {
      const frame = parseFrame(payload);
      if (typeof frame === 'string') return new Refusal('bad-frame', frame);
      text = frame.header;
      attachmentStarts = frame.attachmentStarts;
    } else {
      text = payload.toString('utf8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return new Refusal('not-json', (error as Error).message);
    }
    // Before anything else walks it: the envelope is one level, a batch one more.
    const isBatch = attachmentStarts < 0 && Array.isArray(value);
    const problem = treeProblem(value, this.limits.maxNestingDepth + (isBatch ? 2 : 1));
    if (problem !== undefined) return new Refusal(problem.reason, problem.detail);
    if (isBatch && (value as unknown[]).length > 0) {
      return (value as unknown[]).map((element) => this.validate(element));
    }
    const envelope = this.validate(value);
    if (envelope instanceof Refusal) return envelope;
    if (attachmentStarts >= 0) {
      const parts = sliceAttachments(payload, attachmentStarts, envelope.attachments);
      if (typeof parts === 'string') return new Refusal('bad-frame', parts);
      this.attachmentsOf.set(envelope, { parts, shareMemory });
    } else if (envelope.attachments !== undefined) {
      return new Refusal('invalid-field', 'attachments only exist in binary frames');
    }
    return envelope;
  }

  private validate(value: unknown): Envelope | Refusal {
    const problem = envelopeProblem(value);
    if (problem !== undefined) {
      const colon = problem.indexOf(':');
      return new Refusal(problem.slice(0, colon), problem.slice(colon + 2));
    }
    const envelope = value as Envelope;
    if (envelope.meta !== undefined && UNSAFE_PATH.test(JSON.stringify(envelope.meta))) {
      return new Refusal(
        'unsafe-meta',
        'superjson meta names a __proto__, constructor or prototype path',
      );
    }
    // Optional and from strangers: a bad one is dropped, the message kept (docs/PROTOCOL.md).
    if (envelope.traceparent !== undefined || envelope.tracestate !== undefined) {
      dropInvalidTraceContext(envelope);
    }
    return envelope;
  }

  /** The body of a decoded envelope as a JavaScript value. */
  body(envelope: Envelope): unknown {
    if (envelope.meta === undefined) return envelope.body;
    this.attachmentContext = this.attachmentsOf.get(envelope);
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
    } finally {
      this.attachmentContext = undefined;
    }
  }

  /** Sets `body` and `meta` on `envelope` from a value that is not plain JSON. */
  private setBody(envelope: Envelope, body: unknown): void {
    const unsupported = unsupportedValuePath(
      body,
      'body',
      new Set(),
      0,
      this.limits.maxNestingDepth,
    );
    if (unsupported !== undefined) {
      throw new InvalidMessageError(
        'unserializable-body',
        `cannot send this body: ${unsupported} cannot travel between processes. ` +
          `Send data: JSON values, Date, Map, Set, BigInt, undefined, RegExp, URL, Buffers, typed arrays, errors.`,
      );
    }
    let serialized: ReturnType<SuperJSON['serialize']>;
    try {
      serialized = this.superjson.serialize(body);
    } catch (cause) {
      throw new InvalidMessageError(
        'unserializable-body',
        `cannot send this body: ${(cause as Error).message}. Bodies may hold JSON values, ` +
          `Date, Map, Set, BigInt, undefined, RegExp, URL, Buffers, typed arrays and errors.`,
      );
    }
    // Maps and Sets become arrays of entries: the JSON may be deeper than the value.
    const tooDeep = treeProblem(serialized.json, this.limits.maxNestingDepth);
    if (tooDeep !== undefined) {
      throw new InvalidMessageError(
        tooDeep.reason,
        `cannot send this body: as JSON it is ${tooDeep.detail}, which receivers refuse ` +
          `(maxNestingDepth). Send a flatter value.`,
      );
    }
    envelope.body = serialized.json;
    if (serialized.meta !== undefined) envelope.meta = serialized.meta;
  }

  private assertWithinLimit(size: number): void {
    if (size > this.limits.maxMessageBytes)
      throw new MessageTooLargeError(size, this.limits.maxMessageBytes);
  }
}
