/**
 * The way out of an actor system: encodes envelopes, sends large ones through
 * the claim check, and pushes back when the publishing connection holds more
 * than `maxWriteBufferBytes` unwritten. Sends then wait, in order and not yet
 * encoded (so memory holds references to their bodies, not copies), until the
 * socket drains: a burst of large messages in one event-loop turn costs a
 * bounded write buffer, not one encoded copy per message.
 */
import type { ClaimCheck } from '../wire/claim-check.js';
import type { Codec, EncodedMessage } from '../wire/codec.js';
import type { Envelope } from '../wire/envelope.js';
import { Fifo } from '../util/fifo.js';
import type { PublishCallback, Transport } from '../transport/transport.js';

/** A send that waits for room in the write buffer. */
interface WaitingSend {
  envelope: Envelope;
  body: unknown;
  channel: string;
  callback: PublishCallback;
  onEncodeFailed: ((error: Error) => void) | undefined;
  /** False once nobody wants it any more (its ask timed out): skipped, not sent. */
  wanted: (() => boolean) | undefined;
}

export class Outbox {
  /** Envelopes published (or stored and announced) so far. */
  sent = 0;
  private readonly waiting = new Fifo<WaitingSend>();
  private listening = false;

  constructor(
    private readonly transport: Transport,
    private readonly codec: Codec,
    private readonly claimCheck: ClaimCheck,
    private readonly maxWriteBufferBytes: number,
  ) {}

  /** Sends waiting for room in the write buffer. */
  get backlog(): number {
    return this.waiting.length;
  }

  /**
   * Encodes `envelope` with `body` and publishes it on `channel`; `callback`
   * gets how many subscribers received it, or the error. An encoding failure
   * (too large, unserializable) goes to `onEncodeFailed` when given, else to
   * `callback`. `wanted` is asked before a send that had to wait goes out.
   */
  send(
    envelope: Envelope,
    body: unknown,
    channel: string,
    callback: PublishCallback,
    onEncodeFailed?: (error: Error) => void,
    wanted?: () => boolean,
  ): void {
    if (this.waiting.length === 0 && this.transport.backlogBytes < this.maxWriteBufferBytes) {
      this.sendNow(envelope, body, channel, callback, onEncodeFailed);
      return;
    }
    this.waiting.push({ envelope, body, channel, callback, onEncodeFailed, wanted });
    if (!this.listening) {
      this.listening = true;
      this.transport.once('writable', this.resume);
    }
  }

  /** Fails every waiting send with `error` (the system stops). */
  rejectWaiting(error: () => Error): void {
    for (const each of this.waiting.drain()) each.callback(error(), 0);
  }

  private readonly resume = (): void => {
    this.listening = false;
    while (this.waiting.length > 0 && this.transport.backlogBytes < this.maxWriteBufferBytes) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      if (next.wanted?.() === false) continue;
      this.sendNow(next.envelope, next.body, next.channel, next.callback, next.onEncodeFailed);
    }
    if (this.waiting.length > 0) {
      this.listening = true;
      this.transport.once('writable', this.resume);
    }
  };

  private sendNow(
    envelope: Envelope,
    body: unknown,
    channel: string,
    callback: PublishCallback,
    onEncodeFailed: ((error: Error) => void) | undefined,
  ): void {
    let encoded: EncodedMessage;
    try {
      encoded = this.codec.encode(envelope, body);
    } catch (error) {
      if (onEncodeFailed === undefined) callback(error as Error, 0);
      else onEncodeFailed(error as Error);
      return;
    }
    this.sent++;
    this.claimCheck.publish(channel, envelope, encoded, callback);
  }
}
