/**
 * The envelope: what travels on a mailbox channel, as JSON text. A
 * discriminated union by `kind`; the format is specified, with examples, in
 * docs/PROTOCOL.md.
 */
import { isValidName } from './address.js';

/** Version of the wire format; a receiver drops envelopes of any other version. */
export const PROTOCOL_VERSION = 1;

/** What an envelope is for. */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'error';

const KINDS: ReadonlySet<string> = new Set<EnvelopeKind>(['tell', 'ask', 'reply', 'error']);

/** Claim check: the message was too large for pub/sub; its full encoding is under `key`. */
export interface ClaimReference {
  /** `<namespace>:claim:<id>:<token>`: GETRANGE it (at most `size` bytes), then DEL it. */
  key: string;
  /** Exact byte length of the stored message. */
  size: number;
}

/** Fields every envelope has. */
interface EnvelopeFields {
  /** Protocol version, always {@link PROTOCOL_VERSION}. */
  v: number;
  /** Unique id of this message; receivers use it to drop duplicates. */
  id: string;
  /** Address of the sender. */
  from: string;
  /** Address or name the message was sent to. */
  to: string;
  /** Body, as JSON; decoded with `meta` when present. */
  body?: unknown;
  /** superjson type annotations for `body` (Date, Map, BigInt, …); absent for plain JSON. */
  meta?: unknown;
  /** Milliseconds since the epoch when the sender sent it. */
  sentAt: number;
  /** Binary frames only: byte length of each attachment (see binary-frame.ts). */
  attachments?: number[] | undefined;
  /** Claim check: absent on ordinary messages. */
  claim?: ClaimReference | undefined;
  /**
   * W3C trace context of the span that sent it (`00-<trace id>-<span id>-<flags>`),
   * when the sender traces; see {@link dropInvalidTraceContext}.
   */
  traceparent?: string | undefined;
  /** W3C `tracestate` that goes with `traceparent` (vendor key=value list, ≤ 512 characters). */
  tracestate?: string | undefined;
}

/** A one-way message. */
export interface TellEnvelope extends EnvelopeFields {
  kind: 'tell';
  /** Message type, the key of the handler that takes it. */
  type: string;
}

/** A request: the reply goes to `replyTo`, and nobody waits for it after `deadline`. */
export interface AskEnvelope extends EnvelopeFields {
  kind: 'ask';
  type: string;
  /** Where the reply goes: an address, published to as `<namespace>:<replyTo>`. */
  replyTo: string;
  /** Milliseconds since the epoch after which nobody waits for the reply. */
  deadline: number;
}

/** The answer to an ask: its body (`reply`), or the error its handler raised (`error`). */
export interface ReplyEnvelope extends EnvelopeFields {
  kind: 'reply' | 'error';
  /** The `id` of the ask being answered. */
  correlationId: string;
}

/** One message on the wire, as decoded from JSON (the body still in its wire form). */
export type Envelope = TellEnvelope | AskEnvelope | ReplyEnvelope;

/** A message an actor handles: a tell or an ask. */
export type RequestEnvelope = TellEnvelope | AskEnvelope;

export function isAsk(envelope: Envelope): envelope is AskEnvelope {
  return envelope.kind === 'ask';
}

export function isReply(envelope: Envelope): envelope is ReplyEnvelope {
  return envelope.kind === 'reply' || envelope.kind === 'error';
}

/** The header fields of an envelope, for a stub or a comparison (no body, meta, attachments). */
export const HEADER_FIELDS = [
  'v',
  'id',
  'kind',
  'from',
  'to',
  'type',
  'replyTo',
  'correlationId',
  'sentAt',
  'deadline',
] as const;

/** A field of the header, read whatever the kind (undefined when that kind has none). */
export function headerField(envelope: Envelope, field: (typeof HEADER_FIELDS)[number]): unknown {
  return (envelope as unknown as Record<string, unknown>)[field];
}

// ----------------------------------------------------------------- builders

export function tellEnvelope(
  id: string,
  from: string,
  to: string,
  type: string,
  now = Date.now(),
): TellEnvelope {
  return { v: PROTOCOL_VERSION, id, kind: 'tell', from, to, type, sentAt: now };
}

export function askEnvelope(
  id: string,
  from: string,
  to: string,
  type: string,
  replyTo: string,
  timeoutMs: number,
  now = Date.now(),
): AskEnvelope {
  return {
    v: PROTOCOL_VERSION,
    id,
    kind: 'ask',
    from,
    to,
    type,
    replyTo,
    sentAt: now,
    deadline: now + timeoutMs,
  };
}

/** The reply (or error reply) to `ask`, sent by `from`. */
export function replyEnvelope(
  id: string,
  ask: AskEnvelope,
  from: string,
  kind: 'reply' | 'error',
): ReplyEnvelope {
  return {
    v: PROTOCOL_VERSION,
    id,
    kind,
    from,
    to: ask.replyTo,
    correlationId: ask.id,
    sentAt: Date.now(),
  };
}

// --------------------------------------------------------------- validation

/** Why a decoded JSON value is not an acceptable envelope, or `undefined` when it is. */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not-an-envelope: expected a JSON object';
  }
  const envelope = value as Record<string, unknown>;
  if (envelope.v !== PROTOCOL_VERSION) {
    return `unsupported-version: v=${envelope.v === undefined ? 'missing' : JSON.stringify(envelope.v)}, this receiver speaks v=${PROTOCOL_VERSION}`;
  }
  const missing =
    missingString(envelope, 'id') ??
    missingString(envelope, 'from') ??
    missingString(envelope, 'to');
  if (missing !== undefined) return missing;
  if (typeof envelope.kind !== 'string' || !KINDS.has(envelope.kind)) {
    return `invalid-field: kind must be one of tell, ask, reply, error`;
  }
  if (typeof envelope.sentAt !== 'number' || !Number.isFinite(envelope.sentAt)) {
    return 'missing-field: sentAt (number, ms since epoch)';
  }
  if (envelope.claim !== undefined) {
    const claim = envelope.claim as Record<string, unknown> | null;
    if (
      typeof claim !== 'object' ||
      claim === null ||
      typeof claim.key !== 'string' ||
      claim.key === '' ||
      typeof claim.size !== 'number' ||
      !Number.isSafeInteger(claim.size) ||
      claim.size < 0
    ) {
      return 'invalid-field: claim must be { key: string, size: integer >= 0 }';
    }
  }
  switch (envelope.kind) {
    case 'ask':
      if (typeof envelope.deadline !== 'number' || !Number.isFinite(envelope.deadline)) {
        return 'missing-field: deadline (number, ms since epoch) is required on an ask';
      }
      return (
        missingString(envelope, 'replyTo') ??
        missingString(envelope, 'type') ??
        // Replies go only to a mailbox of this namespace: never a topic, another
        // namespace or a pattern, so an ask cannot aim its reply at a third party's channel.
        (isValidName(envelope.replyTo as string)
          ? undefined
          : 'bad-reply-to: replyTo must be a mailbox address (1-200 characters without ' +
            "whitespace, ':', '*', '?', '[', ']' or '\\')")
      );
    case 'tell':
      return missingString(envelope, 'type');
    default:
      return missingString(envelope, 'correlationId');
  }
}

function missingString(envelope: Record<string, unknown>, field: string): string | undefined {
  const value = envelope[field];
  return typeof value === 'string' && value.length > 0
    ? undefined
    : `missing-field: ${field} (non-empty string)`;
}

// ------------------------------------------------------------ trace context

/** Longest `tracestate` kept (W3C: propagators must keep at least 512 characters). */
export const MAX_TRACESTATE_LENGTH = 512;
/** W3C traceparent of version 00, lowercase hex, neither id all zeros. */
const TRACEPARENT = /^00-(?!0{32}-)[\da-f]{32}-(?!0{16}-)[\da-f]{16}-[\da-f]{2}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** One W3C tracestate list member `key=value` (simple or multi-tenant key). */
const TRACESTATE_MEMBER =
  /^(?:[a-z][a-z\d_*/-]{0,255}|[a-z\d][a-z\d_*/-]{0,240}@[a-z][a-z\d_*/-]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
/** Most list members a W3C tracestate may have. */
const MAX_TRACESTATE_MEMBERS = 32;

/** Whether `value` is a W3C traceparent this receiver accepts (version 00 only, 55 characters). */
export function isValidTraceparent(value: unknown): value is string {
  return typeof value === 'string' && value.length === 55 && TRACEPARENT.test(value);
}

/**
 * Whether `value` is a W3C tracestate this receiver accepts: printable ASCII,
 * at most 512 characters, 1 to 32 `key=value` list members with distinct
 * keys (empty members between commas are allowed and not counted).
 */
export function isValidTracestate(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_TRACESTATE_LENGTH) return false;
  if (!PRINTABLE_ASCII.test(value)) return false;
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    if (!TRACESTATE_MEMBER.test(member)) return false;
    const key = member.slice(0, member.indexOf('='));
    if (keys.has(key) || keys.size === MAX_TRACESTATE_MEMBERS) return false;
    keys.add(key);
  }
  return keys.size > 0;
}

/**
 * Removes from a received envelope trace fields that are not valid W3C trace
 * context: they come from strangers, and a bad one is dropped, never a reason
 * to refuse the message. A `tracestate` without a valid `traceparent` goes too.
 */
export function dropInvalidTraceContext(envelope: Envelope): void {
  if (envelope.traceparent !== undefined && !isValidTraceparent(envelope.traceparent)) {
    delete envelope.traceparent;
  }
  if (
    envelope.tracestate !== undefined &&
    (envelope.traceparent === undefined || !isValidTracestate(envelope.tracestate))
  ) {
    delete envelope.tracestate;
  }
}
