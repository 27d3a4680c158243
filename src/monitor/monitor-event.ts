/**
 * What a monitor shows of one payload, whichever way it was seen (a MONITOR
 * line or a pattern subscription): decoded when it is an envelope, else an
 * excerpt and why not.
 */
import {
  type Codec,
  type Envelope,
  type PayloadAuth,
  Refusal,
  SIGNED_HEADER_BYTES,
  isSigned,
} from '../wire/index.js';

/** How a monitor watches: Redis `MONITOR`, or a pattern subscription `PSUBSCRIBE <ns>:*`. */
export type MonitorMode = 'monitor' | 'psubscribe';

/** One payload published on a channel of the namespace, or appended to one of its durable mailboxes. */
export interface MonitorEvent {
  /** When the monitor received it, ms since the epoch. */
  at: number;
  /** The channel, or for an append to a durable mailbox the stream's key (`<ns>:inbox:{<name>}`). */
  channel: string;
  /** The channel without the namespace prefix: an address, a name, or `topic:<name>`; the name for an append. */
  target: string;
  /** Payload size in bytes (for a payload too large to show, the length of its MONITOR line). */
  size: number;
  /**
   * The payload's bytes, as published or appended (do not modify them; copy
   * them to keep them). Empty for a payload too large to show.
   */
  payload: Buffer;
  /** The envelope, when the payload is a valid one. */
  envelope: Envelope | undefined;
  /**
   * The payload as text, when it is not an envelope (topics, foreign or invalid
   * traffic): its first {@link MONITOR_TEXT_LIMIT} characters, then `…`.
   */
  text: string | undefined;
  /** Why the payload is not an envelope (or not genuine), when it is not. */
  problem: string | undefined;
  /**
   * The payload's namespace signature: `valid` (checked with the secret),
   * `unchecked` (signed, but this monitor has no secret), or `undefined` (none;
   * refused in `problem` when the monitor has the secret).
   */
  signature: 'valid' | 'unchecked' | undefined;
  /**
   * The command that carried it: `PUBLISH`, `SPUBLISH`, or `XADD` (an append
   * to a durable mailbox, by a client or by the framework's append script).
   * `undefined` in `psubscribe` mode, which cannot tell.
   */
  command: 'PUBLISH' | 'SPUBLISH' | 'XADD' | undefined;
  /**
   * The Redis client that sent it, as Redis names it: `<ip>:<port>`,
   * `unix:<socket path>`, or `lua` for a script. `undefined` in `psubscribe` mode.
   */
  client: string | undefined;
}

/** Most characters of a payload a monitor event shows. */
export const MONITOR_TEXT_LIMIT = 4096;

/** Where a payload was seen, beyond its bytes. */
export interface PayloadSource {
  at: number;
  channel: string;
  target: string;
  /** The channel its signature is for: the channel, or `<ns>:<name>` for an append. */
  signedFor: string;
  command: MonitorEvent['command'];
  client: string | undefined;
}

/** The start of a payload as text, bounded whatever its size. */
function excerptOf(payload: Buffer): string {
  if (payload.length <= MONITOR_TEXT_LIMIT) return payload.toString('utf8');
  // UTF-8 takes at most 4 bytes a character: this many bytes hold enough characters.
  const text = payload.subarray(0, MONITOR_TEXT_LIMIT * 4).toString('utf8');
  return text.length <= MONITOR_TEXT_LIMIT ? text : `${text.slice(0, MONITOR_TEXT_LIMIT)}…`;
}

/** The events of one payload: one, or one per envelope of a batch. */
export function eventsOf(
  payload: Buffer,
  source: PayloadSource,
  codec: Codec,
  auth: PayloadAuth | undefined,
): MonitorEvent[] {
  const { at, channel, target, command, client } = source;
  const signed = isSigned(payload);
  // A signed payload without its signature (not checked: no secret here).
  const inner =
    auth?.verify(source.signedFor, payload) ??
    (signed ? payload.subarray(SIGNED_HEADER_BYTES) : payload);
  const signature = auth !== undefined ? 'valid' : signed ? 'unchecked' : undefined;
  const decoded = inner instanceof Refusal ? inner : codec.decodeAll(inner);
  const items = Array.isArray(decoded) ? decoded : [decoded];
  return items.map((item) => {
    const isEnvelope = !(item instanceof Refusal);
    return {
      at,
      channel,
      target,
      // A batch shares one PUBLISH: each envelope is shown with its own size.
      size: items.length === 1 ? payload.length : Buffer.byteLength(JSON.stringify(item)),
      payload,
      envelope: isEnvelope ? item : undefined,
      text: isEnvelope ? undefined : excerptOf(payload),
      problem: isEnvelope ? undefined : `${item.reason}: ${item.detail}`,
      signature: inner instanceof Refusal ? undefined : signature,
      command,
      client,
    };
  });
}

/** The event of a payload the monitor saw only the start of (its MONITOR line was too long). */
export function oversizedEvent(
  source: PayloadSource,
  lineBytes: number,
  maxLineBytes: number,
): MonitorEvent {
  const { at, channel, target, command, client } = source;
  return {
    at,
    channel,
    target,
    command,
    client,
    size: lineBytes,
    payload: Buffer.alloc(0),
    envelope: undefined,
    text: undefined,
    problem:
      `oversized: its MONITOR line is ${lineBytes} bytes, over this monitor's limit of ` +
      `${maxLineBytes} (maxLineBytes); not shown`,
    signature: undefined,
  };
}
