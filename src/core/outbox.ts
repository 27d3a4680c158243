/**
 * The way out of an actor system: numbers envelopes, encodes them, sends
 * large ones through the claim check, and pushes back when the publishing
 * connection holds more than `maxWriteBufferBytes` unwritten. Sends then
 * wait, in order and not yet encoded (so memory holds references to their
 * bodies, not copies), until the socket drains: a burst of large messages in
 * one event-loop turn costs a bounded write buffer, not one encoded copy per
 * message. Replies and error replies go out here too.
 */
import { nanoid } from 'nanoid';
import type { AppendCallback, DurableSender } from '../durable/index.js';
import type { CommandArgument, PublishCallback, Transport } from '../transport/index.js';
import { Fifo } from '../util/index.js';
import {
  type AskEnvelope,
  type ClaimCheck,
  type Codec,
  type EncodedMessage,
  type Envelope,
  MessageIds,
  type Names,
  type PayloadAuth,
  type ReplyEnvelope,
  replyEnvelope,
  toWireError,
} from '../wire/index.js';
import type { Diagnostics } from './diagnostics.js';
import type { Tracing } from './tracing.js';

/** A send that waits for room in the write buffer. */
interface WaitingSend {
  envelope: Envelope;
  body: unknown;
  channel: string;
  callback: PublishCallback;
  onEncodeFailed: ((error: Error) => void) | undefined;
  /** Asked with the envelope's id before it goes out: false (its ask timed out) skips it. */
  wanted: ((id: string) => boolean) | undefined;
  /** For a send to a durable mailbox (`channel` is then the name): its outcome. */
  appended?: AppendCallback;
}

export interface OutboxParts {
  transport: Transport;
  codec: Codec;
  claimCheck: ClaimCheck;
  names: Names;
  diagnostics: Diagnostics;
  maxWriteBufferBytes: number;
  durable: DurableSender;
  /** The namespace secret: messages to durable mailboxes are signed here. */
  auth: PayloadAuth | undefined;
  /** Puts the answering span's trace context on replies (tracing.ts); undefined without tracing. */
  tracing?: Tracing | undefined;
}

export class Outbox {
  /** Envelopes published (or stored and announced) so far. */
  sent = 0;
  private readonly ids = new MessageIds(nanoid(12));
  private readonly waiting = new Fifo<WaitingSend>();
  private listening = false;
  private readonly transport: Transport;
  private readonly codec: Codec;
  private readonly claimCheck: ClaimCheck;
  private readonly names: Names;
  private readonly diagnostics: Diagnostics;
  private readonly maxWriteBufferBytes: number;
  private readonly durable: DurableSender;
  private readonly auth: PayloadAuth | undefined;
  private readonly tracing: Tracing | undefined;

  constructor(parts: OutboxParts) {
    this.tracing = parts.tracing;
    this.durable = parts.durable;
    this.auth = parts.auth;
    this.transport = parts.transport;
    this.codec = parts.codec;
    this.claimCheck = parts.claimCheck;
    this.names = parts.names;
    this.diagnostics = parts.diagnostics;
    this.maxWriteBufferBytes = parts.maxWriteBufferBytes;
  }

  /** A fresh id for an envelope of this system (`<nonce>.<counter>`, see wire/dedupe.ts). */
  nextId(): string {
    return this.ids.next();
  }

  /** A fresh id for an ask: numbered, with 96 random bits replies must echo. */
  nextAskId(): string {
    return this.ids.nextAsk();
  }

  /** Whether `name` is known to have a durable mailbox (its messages go there first). */
  isDurable(name: string): boolean {
    return this.durable.isKnown(name);
  }

  /** Sends waiting for room in the write buffer. */
  get backlog(): number {
    return this.waiting.length;
  }

  /**
   * Encodes `envelope` with `body` and publishes it on `channel`; `callback`
   * gets how many subscribers received it, or the error. An encoding failure
   * (too large, unserializable) goes to `onEncodeFailed` when given, else to
   * `callback`. `wanted` is asked (with the envelope's id) before a send that
   * had to wait goes out: pass one function for all sends, not a closure each.
   */
  send(
    envelope: Envelope,
    body: unknown,
    channel: string,
    callback: PublishCallback,
    onEncodeFailed?: (error: Error) => void,
    wanted?: (id: string) => boolean,
  ): void {
    if (this.mustWait()) {
      this.wait({ envelope, body, channel, callback, onEncodeFailed, wanted });
      return;
    }
    const failure = this.sendNow(envelope, body, channel, callback);
    if (failure === undefined) return;
    if (onEncodeFailed === undefined) callback(failure, 0);
    else onEncodeFailed(failure);
  }

  /**
   * Encodes `envelope` with `body` and appends it to the durable mailbox of
   * `name`, inline (a stream keeps it as long as it takes: no claim check).
   * `callback` gets the outcome; an encoding failure is its error.
   */
  sendDurable(
    envelope: Envelope,
    body: unknown,
    name: string,
    callback: AppendCallback,
    wanted?: (id: string) => boolean,
  ): void {
    if (this.mustWait()) {
      const refused = (error: Error | null): void => {
        callback(error, { kind: 'not-durable' });
      };
      this.wait({
        envelope,
        body,
        channel: name,
        callback: refused,
        onEncodeFailed: undefined,
        wanted,
        appended: callback,
      });
      return;
    }
    this.appendNow(envelope, body, name, callback);
  }

  /** Answers `ask` with `body`, as `from`; a reply that cannot be encoded becomes an error reply. */
  reply(ask: AskEnvelope, from: string, body: unknown): void {
    const envelope = replyEnvelope(this.nextId(), ask, from, 'reply');
    this.tracing?.reply(ask, envelope);
    const channel = this.names.channel(envelope.to);
    const callback = (error: Error | null, receivers: number): void => {
      this.afterReply(envelope, error, receivers);
    };
    // The reply itself cannot be sent (too large, unserializable): tell the asker why.
    if (this.mustWait()) {
      this.wait({
        envelope,
        body,
        channel,
        callback,
        onEncodeFailed: (error) => {
          this.replyError(ask, from, error, 'framework');
        },
        wanted: undefined,
      });
      return;
    }
    const failure = this.sendNow(envelope, body, channel, callback);
    if (failure !== undefined) this.replyError(ask, from, failure, 'framework');
  }

  /** Answers `ask` with `error` (raised by the handler, or by the framework on its behalf). */
  replyError(
    ask: AskEnvelope,
    from: string,
    error: unknown,
    origin: 'framework' | 'handler',
  ): void {
    const envelope = replyEnvelope(this.nextId(), ask, from, 'error');
    this.tracing?.reply(ask, envelope);
    const channel = this.names.channel(envelope.to);
    const afterReply = (sendError: Error | null, receivers: number): void => {
      this.afterReply(envelope, sendError, receivers);
    };
    const wire = toWireError(error, origin);
    this.send(envelope, wire, channel, afterReply, () => {
      // A huge stack or message: keep name and code, which is what callers branch on.
      const short = { ...wire, message: 'error too large to send' };
      delete short.stack;
      this.send(envelope, short, channel, afterReply);
    });
  }

  /** Fails every waiting send with `error` (the system stops). */
  rejectWaiting(error: () => Error): void {
    for (const each of this.waiting.drain()) each.callback(error(), 0);
  }

  /** Whether a send must wait: others wait already, or the write buffer is full. */
  private mustWait(): boolean {
    return this.waiting.length > 0 || this.transport.backlogBytes >= this.maxWriteBufferBytes;
  }

  private wait(send: WaitingSend): void {
    this.waiting.push(send);
    if (!this.listening) {
      this.listening = true;
      this.transport.once('writable', this.resume);
    }
  }

  private readonly resume = (): void => {
    this.listening = false;
    while (this.waiting.length > 0 && this.transport.backlogBytes < this.maxWriteBufferBytes) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      if (next.wanted?.(next.envelope.id) === false) continue;
      if (next.appended !== undefined) {
        this.appendNow(next.envelope, next.body, next.channel, next.appended);
        continue;
      }
      const failure = this.sendNow(next.envelope, next.body, next.channel, next.callback);
      if (failure === undefined) continue;
      if (next.onEncodeFailed === undefined) next.callback(failure, 0);
      else next.onEncodeFailed(failure);
    }
    if (this.waiting.length > 0) {
      this.listening = true;
      this.transport.once('writable', this.resume);
    }
  };

  private afterReply(envelope: ReplyEnvelope, error: Error | null, receivers: number): void {
    if (error !== null) {
      this.diagnostics.logOnce(
        'reply-failed',
        `reply to ${envelope.to} not sent: ${error.message}`,
      );
    } else if (receivers === 0) {
      this.diagnostics.drop(
        'deadLetter',
        'reply-dead-letter',
        `reply to ${envelope.to} reached no subscriber (asker gone?)`,
      );
    }
  }

  private appendNow(
    envelope: Envelope,
    body: unknown,
    name: string,
    callback: AppendCallback,
  ): void {
    let encoded: EncodedMessage;
    try {
      encoded = this.codec.encode(envelope, body);
    } catch (error) {
      callback(error as Error, { kind: 'not-durable' });
      return;
    }
    const channel = this.names.channel(name);
    const auth = this.auth;
    let payload: CommandArgument;
    if (typeof encoded === 'string')
      payload = auth === undefined ? encoded : auth.signText(channel, encoded);
    else payload = auth === undefined ? encoded.chunks : auth.signChunks(channel, encoded.chunks);
    this.sent++;
    this.diagnostics.sentByKind[envelope.kind]++;
    this.durable.append(name, payload, callback);
  }

  /** Encodes and publishes; returns the encoding failure (too large, unserializable), if any. */
  private sendNow(
    envelope: Envelope,
    body: unknown,
    channel: string,
    callback: PublishCallback,
  ): Error | undefined {
    let encoded: EncodedMessage;
    try {
      encoded = this.codec.encode(envelope, body);
    } catch (error) {
      return error as Error;
    }
    this.sent++;
    this.diagnostics.sentByKind[envelope.kind]++;
    this.claimCheck.publish(channel, envelope, encoded, callback);
    return undefined;
  }
}
