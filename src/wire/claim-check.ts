/**
 * Claim check: a message too large for pub/sub is stored under a key with a
 * TTL, and only a small stub envelope naming that key is published; the
 * receiver fetches and deletes it. Redis disconnects a subscriber whose
 * output buffer passes its limit (client-output-buffer-limit pubsub, 32 MB by
 * default), so a large PUBLISH could cut off every subscriber of a channel; a
 * stored value cannot.
 *
 * Stubs come from anyone, so the receiver trusts nothing in them: the key
 * must be in this namespace's claim space and carry the stub's id and a
 * random token (nobody who has not seen the stub can plant or swap the
 * value); it fetches at most the declared size plus one byte (GETRANGE), so
 * a stub that understates a huge value costs nothing; the stored value must
 * be exactly the declared size, and its envelope must match the stub in
 * every header field.
 */
import { nanoid } from 'nanoid';
import type { Names } from './address.js';
import { type EncodedMessage, Refusal, encodedSize } from './codec.js';
import { type Envelope, HEADER_FIELDS, headerField } from './envelope.js';
import type { PublishCallback, Transport } from '../transport/index.js';
import type { PayloadAuth } from './payload-auth.js';

const TOKEN = /^[\w-]{22}$/;

export interface ClaimCheckOptions {
  /** Messages larger than this (bytes) go through a key. */
  thresholdBytes: number;
  /** How long an unfetched message is kept. */
  ttlMs: number;
}

export class ClaimCheck {
  constructor(
    private readonly transport: Transport,
    private readonly names: Names,
    private readonly options: ClaimCheckOptions,
    /** With a namespace secret: binary frames and stored values are signed here. */
    private readonly auth?: PayloadAuth,
  ) {}

  /**
   * Publishes `encoded` on `channel`: inline when small enough, else stored
   * and announced by a stub (deleted again if nobody received the stub).
   */
  publish(
    channel: string,
    envelope: Envelope,
    encoded: EncodedMessage,
    callback: PublishCallback,
  ): void {
    const threshold = this.options.thresholdBytes;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: most texts are small without counting.
    if (typeof encoded === 'string' && encoded.length * 3 <= threshold) {
      this.transport.publishMergeable(channel, encoded, callback);
      return;
    }
    const size = encodedSize(encoded);
    const auth = this.auth;
    if (size <= threshold) {
      if (typeof encoded === 'string') this.transport.publishMergeable(channel, encoded, callback);
      else {
        const chunks =
          auth === undefined ? encoded.chunks : auth.signChunks(channel, encoded.chunks);
        this.transport.publish(channel, chunks, callback);
      }
      return;
    }
    // The token: nobody who has not seen the stub can plant or swap the stored value.
    const key = `${this.keyPrefix(channel, envelope.id)}${nanoid(22)}`;
    // Signed for its key, so that it cannot pass for another message's content.
    const stored: string | Buffer[] =
      auth === undefined
        ? typeof encoded === 'string'
          ? encoded
          : encoded.chunks
        : typeof encoded === 'string'
          ? auth.signText(key, encoded)
          : auth.signChunks(key, encoded.chunks);
    const storedSize =
      typeof stored === 'string'
        ? Buffer.byteLength(stored)
        : stored.reduce((sum, chunk) => sum + chunk.length, 0);
    const stub = { ...envelope, claim: { key, size: storedSize } } as Envelope;
    // Only the header travels in the stub.
    delete stub.body;
    delete stub.meta;
    delete stub.attachments;
    // Same connection, same flush (on a cluster too: the key is in the channel's slot), so
    // Redis has the value before anyone sees the stub.
    this.transport.send(['SET', key, stored, 'PX', String(this.options.ttlMs)], (error) => {
      if (error !== null) callback(error, 0);
    });
    this.transport.publishMergeable(channel, JSON.stringify(stub), (error, receivers) => {
      if (error === null && receivers === 0) this.discard(key);
      callback(error, receivers);
    });
  }

  /**
   * The stored message a stub refers to, removed from Redis: its bytes, or a
   * refusal (`claim-missing` when it expired or was taken, `bad-claim` when
   * its size differs from the stub's). Never reads more than the declared size
   * plus one byte.
   */
  async fetch(stub: Envelope): Promise<Buffer | Refusal> {
    const key = this.keyOf(stub);
    const size = stub.claim?.size ?? 0;
    const [value] = await Promise.all([
      this.transport.command(['GETRANGE', key, '0', String(size)]),
      this.transport.command(['DEL', key]),
    ]);
    if (!Buffer.isBuffer(value) || value.length === 0) {
      return new Refusal(
        'claim-missing',
        `claimed message ${stub.id} expired or was taken before it was fetched`,
      );
    }
    if (value.length !== size) {
      return new Refusal(
        'bad-claim',
        `claimed message ${stub.id} is not the ${size} bytes its stub declares`,
      );
    }
    return this.auth === undefined ? value : this.auth.verify(key, value);
  }

  /** Why a fetched envelope is not the one its stub announced, or `undefined` when it is. */
  mismatch(stub: Envelope, stored: Envelope): string | undefined {
    for (const field of HEADER_FIELDS) {
      if (headerField(stored, field) !== headerField(stub, field)) {
        return `its "${field}" differs from the stub's`;
      }
    }
    if (stored.claim !== undefined) return 'a claimed message may not itself be a claim';
    return undefined;
  }

  /** Deletes a stored message nobody will fetch (refused, or nobody listening). */
  discard(stubOrKey: Envelope | string): void {
    const key = typeof stubOrKey === 'string' ? stubOrKey : this.keyOf(stubOrKey);
    this.transport.send(['DEL', key], () => undefined);
  }

  /**
   * The key of a stub: only `<namespace>:claim:{<its channel>}:<stub id>:<token>`
   * may be fetched or deleted. Throws for any other.
   */
  keyOf(stub: Envelope): string {
    const prefix = this.keyPrefix(this.names.channel(stub.to), stub.id);
    const key = stub.claim?.key;
    if (key === undefined || !key.startsWith(prefix) || !TOKEN.test(key.slice(prefix.length))) {
      throw new Error(`claim key must be ${prefix}<22-character token>`);
    }
    return key;
  }

  /**
   * `<namespace>:claim:{<channel's hash tag>}:<id>:`: the key lies in the slot
   * of the channel the stub goes to, so that on a Redis Cluster the SET and the
   * SPUBLISH travel on one connection to one node, in order.
   */
  private keyPrefix(channel: string, id: string): string {
    return `${this.names.key('claim', `{${slotTagOf(channel)}}`, id)}:`;
  }
}

/**
 * What decides the slot of `channel`: the text of its hash tag when it has
 * one (`{…}`, not empty), else the whole channel. A channel with `{}` right
 * after its first `{` cannot be reproduced in a tag; its claims still work,
 * only not in its slot.
 */
function slotTagOf(channel: string): string {
  const open = channel.indexOf('{');
  if (open === -1) return channel;
  const close = channel.indexOf('}', open + 1);
  // No `}` after it: the whole channel decides, and a tag of it ends at our own `}`.
  if (close === -1) return channel;
  if (close > open + 1) return channel.slice(open + 1, close);
  return channel.replace(/[{}]/g, '_');
}
