/**
 * Signed payloads: with a namespace secret, every payload an actor system
 * publishes (an envelope, a batch, a binary frame, a topic value) or stores
 * (a claim-checked message, a registry entry) is
 *
 *     RAS1.<MAC>.<payload>
 *
 * where MAC is the HMAC-SHA-256 of `<channel or key>\n<payload bytes>` under
 * the secret, in unpadded base64url (43 characters). Binding the MAC to the
 * channel (or key) means a captured message cannot be replayed to another
 * mailbox; the payload holds `from`, `to`, `replyTo`, `id`, `sentAt` and
 * `deadline`, so none of them can be forged, and the dedupe window refuses
 * a replay to the same mailbox. Receivers verify before they parse.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Refusal } from './codec.js';

export const SIGNED_PREFIX = 'RAS1.';
/** Length of the MAC in base64url. */
const MAC_CHARS = 43;
/** Bytes before the payload: the prefix, the MAC and the dot after it. */
export const SIGNED_HEADER_BYTES = SIGNED_PREFIX.length + MAC_CHARS + 1;
const PREFIX_BYTES = Buffer.from(SIGNED_PREFIX);

/** Whether `payload` starts like a signed payload. */
export function isSigned(payload: Buffer): boolean {
  return payload.length >= SIGNED_HEADER_BYTES && payload.subarray(0, 5).equals(PREFIX_BYTES);
}

export class PayloadAuth {
  private readonly key: Buffer;

  constructor(secret: string | Buffer) {
    this.key = Buffer.isBuffer(secret) ? Buffer.from(secret) : Buffer.from(secret, 'utf8');
    if (this.key.length < 16) {
      throw new Error('the namespace secret must be at least 16 bytes: use 32 random bytes');
    }
  }

  /** `payload` signed for `channel` (a channel or a key). */
  signText(channel: string, payload: string): string {
    return `${SIGNED_PREFIX}${this.mac(channel, payload)}.${payload}`;
  }

  /** Chunks of a binary payload signed for `channel`: one chunk in front, the rest not copied. */
  signChunks(channel: string, chunks: readonly Buffer[]): Buffer[] {
    const hmac = createHmac('sha256', this.key).update(`${channel}\n`);
    for (const chunk of chunks) hmac.update(chunk);
    return [Buffer.from(`${SIGNED_PREFIX}${hmac.digest('base64url')}.`), ...chunks];
  }

  /**
   * The payload inside a signed payload for `channel` (a view, not a copy), or
   * why it is refused: `unsigned` (no signature), `bad-mac` (a signature that
   * does not match: forged, altered, or signed for another channel or secret).
   */
  verify(channel: string, payload: Buffer): Buffer | Refusal {
    if (!isSigned(payload)) {
      return new Refusal('unsigned', `a payload on ${channel} without the namespace's signature`);
    }
    const inner = payload.subarray(SIGNED_HEADER_BYTES);
    const expected = createHmac('sha256', this.key).update(`${channel}\n`).update(inner).digest();
    const given = Buffer.from(payload.toString('latin1', 5, 5 + MAC_CHARS), 'base64url');
    if (
      payload[SIGNED_HEADER_BYTES - 1] !== 0x2e ||
      given.length !== expected.length ||
      !timingSafeEqual(given, expected)
    ) {
      return new Refusal('bad-mac', `a payload on ${channel} whose signature does not match`);
    }
    return inner;
  }

  private mac(channel: string, payload: string): string {
    return createHmac('sha256', this.key)
      .update(`${channel}\n`)
      .update(payload)
      .digest('base64url');
  }
}
