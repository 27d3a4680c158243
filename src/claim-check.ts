/**
 * Claim check: a message too large for pub/sub is stored under a key with a
 * TTL, and only a small stub envelope naming that key is published; the
 * receiver fetches and deletes it (GETDEL). Redis disconnects a subscriber
 * whose output buffer passes 32 MB (client-output-buffer-limit pubsub), so a
 * large PUBLISH could cut off every subscriber of a channel; a stored value
 * cannot.
 */
import type { Names } from './address.js';
import { type EncodedMessage, encodedSize } from './codec.js';
import type { Envelope } from './envelope.js';
import type { PublishCallback, Transport } from './transport/transport.js';

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
    if (size <= threshold) {
      if (typeof encoded === 'string') this.transport.publishMergeable(channel, encoded, callback);
      else this.transport.publish(channel, encoded.chunks, callback);
      return;
    }
    const key = this.names.key('claim', envelope.id);
    const stub: Envelope = {
      v: envelope.v,
      id: envelope.id,
      kind: envelope.kind,
      from: envelope.from,
      to: envelope.to,
      type: envelope.type,
      replyTo: envelope.replyTo,
      correlationId: envelope.correlationId,
      sentAt: envelope.sentAt,
      deadline: envelope.deadline,
      claim: { key, size },
    };
    // Same connection, same flush: Redis has the value before anyone sees the stub.
    this.transport.send(
      [
        'SET',
        key,
        typeof encoded === 'string' ? encoded : encoded.chunks,
        'PX',
        String(this.options.ttlMs),
      ],
      (error) => {
        if (error !== null) callback(error, 0);
      },
    );
    this.transport.publishMergeable(channel, JSON.stringify(stub), (error, receivers) => {
      if (error === null && receivers === 0) this.discard(key);
      callback(error, receivers);
    });
  }

  /** The stored message a stub refers to, removed from Redis; null when it expired or was taken. */
  async fetch(stub: Envelope): Promise<Buffer | null> {
    const key = this.keyOf(stub);
    const value = await this.transport.command(['GETDEL', key]);
    return Buffer.isBuffer(value) ? value : null;
  }

  /** Deletes a stored message nobody will fetch (refused, or nobody listening). */
  discard(stubOrKey: Envelope | string): void {
    const key = typeof stubOrKey === 'string' ? stubOrKey : this.keyOf(stubOrKey);
    this.transport.send(['DEL', key], () => undefined);
  }

  /** Only keys of this namespace's claim space may be fetched or deleted by a stub. */
  keyOf(stub: Envelope): string {
    const expected = this.names.key('claim', stub.id);
    if (stub.claim?.key !== expected) throw new Error(`claim key must be ${expected}`);
    return expected;
  }
}
