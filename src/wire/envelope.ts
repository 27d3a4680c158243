/**
 * The envelope: what travels on a mailbox channel, as JSON text.
 * The format is specified, with examples, in docs/PROTOCOL.md.
 */

/** Version of the wire format; a receiver drops envelopes of any other version. */
export const PROTOCOL_VERSION = 1;

/** What an envelope is for. */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'error';

const KINDS: ReadonlySet<string> = new Set<EnvelopeKind>(['tell', 'ask', 'reply', 'error']);

/** One message on the wire, as decoded from JSON (the body still in its wire form). */
export interface Envelope {
  /** Protocol version, always {@link PROTOCOL_VERSION}. */
  v: number;
  /** Unique id of this message (nanoid); receivers use it to drop duplicates. */
  id: string;
  kind: EnvelopeKind;
  /** Address of the sender. */
  from: string;
  /** Address or name the message was sent to. */
  to: string;
  /** Message type, the key of the handler that takes it (tell and ask). */
  type?: string | undefined;
  /** Where the reply goes (ask only): an address, published to as `<namespace>:<replyTo>`. */
  replyTo?: string | undefined;
  /** For reply and error: the `id` of the ask being answered. */
  correlationId?: string | undefined;
  /** Body, as JSON; decoded with `meta` when present. */
  body?: unknown;
  /** superjson type annotations for `body` (Date, Map, BigInt, …); absent for plain JSON. */
  meta?: unknown;
  /** Milliseconds since the epoch when the sender sent it. */
  sentAt: number;
  /** Ask only: milliseconds since the epoch after which nobody waits for the reply. */
  deadline?: number | undefined;
  /** Binary frames only: byte length of each attachment (see binary-frame.ts). */
  attachments?: number[] | undefined;
  /**
   * Claim check: the message was too large for pub/sub; its full encoding is
   * under `key` (GETDEL it), `size` bytes. Absent on ordinary messages.
   */
  claim?: { key: string; size: number } | undefined;
}

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
      !Number.isSafeInteger(claim.size) ||
      (claim.size as number) < 0
    ) {
      return 'invalid-field: claim must be { key: string, size: integer >= 0 }';
    }
  }
  switch (envelope.kind) {
    case 'ask':
      if (typeof envelope.deadline !== 'number' || !Number.isFinite(envelope.deadline)) {
        return 'missing-field: deadline (number, ms since epoch) is required on an ask';
      }
      return missingString(envelope, 'replyTo') ?? missingString(envelope, 'type');
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
