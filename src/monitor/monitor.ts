/**
 * Watching a namespace's traffic: every payload published on any of its
 * channels, decoded when it is an envelope (what `redis-actors monitor` shows).
 */
import type { Names } from '../wire/index.js';
import {
  type Codec,
  type PayloadAuth,
  Refusal,
  SIGNED_HEADER_BYTES,
  isSigned,
} from '../wire/index.js';
import type { Envelope } from '../wire/index.js';
import type { Unsubscribe } from '../transport/index.js';
import type { Transport } from '../transport/index.js';

/** One payload seen on a channel of the namespace. */
export interface MonitorEvent {
  /** When the monitor received it, ms since the epoch. */
  at: number;
  channel: string;
  /** The channel without the namespace prefix: an address, a name, or `topic:<name>`. */
  target: string;
  /** Payload size in bytes. */
  size: number;
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
}

/** Most characters of a payload a monitor event shows. */
export const MONITOR_TEXT_LIMIT = 4096;

/** The start of a payload as text, bounded whatever its size. */
function excerptOf(payload: Buffer): string {
  if (payload.length <= MONITOR_TEXT_LIMIT) return payload.toString('utf8');
  // UTF-8 takes at most 4 bytes a character: this many bytes hold enough characters.
  const text = payload.subarray(0, MONITOR_TEXT_LIMIT * 4).toString('utf8');
  return text.length <= MONITOR_TEXT_LIMIT ? text : `${text.slice(0, MONITOR_TEXT_LIMIT)}…`;
}

/** A signed payload without its signature (not checked: no secret here). */
function unsignedView(payload: Buffer): Buffer {
  return payload.subarray(SIGNED_HEADER_BYTES);
}

export async function monitorNamespace(
  transport: Transport,
  names: Names,
  codec: Codec,
  auth: PayloadAuth | undefined,
  onEvent: (event: MonitorEvent) => void,
): Promise<Unsubscribe> {
  const pattern = names.allChannels();
  await transport.psubscribe(pattern, (payload, channel) => {
    const at = Date.now();
    const target = names.addressOf(channel) ?? channel;
    const signed = isSigned(payload);
    const inner = auth?.verify(channel, payload) ?? (signed ? unsignedView(payload) : payload);
    const signature = auth !== undefined ? 'valid' : signed ? 'unchecked' : undefined;
    const decoded = inner instanceof Refusal ? inner : codec.decodeAll(inner);
    const items = Array.isArray(decoded) ? decoded : [decoded];
    for (const item of items) {
      const isEnvelope = !(item instanceof Refusal);
      onEvent({
        at,
        channel,
        target,
        // A batch shares one PUBLISH: each envelope is shown with its own size.
        size: items.length === 1 ? payload.length : Buffer.byteLength(JSON.stringify(item)),
        envelope: isEnvelope ? item : undefined,
        text: isEnvelope ? undefined : excerptOf(payload),
        problem: isEnvelope ? undefined : `${item.reason}: ${item.detail}`,
        signature: inner instanceof Refusal ? undefined : signature,
      });
    }
  });
  return () => transport.punsubscribe(pattern);
}
