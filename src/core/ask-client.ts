/**
 * Sending tells and asks, and settling asks: the asks waiting for a reply,
 * their timeouts, and what each outcome means for the caller. Every ask
 * settles exactly once: a reply, a typed error, or its timeout.
 */
import type { AppendCallback } from '../durable/index.js';
import {
  AskTimeoutError,
  InvalidOptionError,
  MailboxFullError,
  NoRecipientError,
  ShuttingDownError,
} from '../errors.js';
import {
  type Codec,
  type Names,
  type ReplyEnvelope,
  Refusal,
  askEnvelope,
  fromWireError,
  tellEnvelope,
} from '../wire/index.js';
import type { ClaimState } from '../registry/index.js';
import type { AskOptions, MessageSender } from './actor.js';
import type { Diagnostics } from './diagnostics.js';
import type { Outbox } from './outbox.js';
import type { HistogramSnapshot } from './ask-durations.js';
import { PendingAsks } from './pending-asks.js';
import { ReplierCheck } from './replier-check.js';
import type { PublishSpan, Tracing } from './tracing.js';

export interface AskClientParts {
  outbox: Outbox;
  codec: Codec;
  names: Names;
  diagnostics: Diagnostics;
  /** Where replies to this system's asks arrive: its process mailbox. */
  replyTo: string;
  askTimeoutMs: number;
  /** Whether sends are accepted: `internal` for handlers, which may send while the system drains. */
  maySend(internal: boolean): boolean;
  /** Whether the connection to Redis is down right now (said in timeout errors). */
  inOutage(): boolean;
  /**
   * Capture the caller's stack at every ask, so that its failure shows where it
   * was made. Costs a stack capture (~5 µs here) per ask.
   */
  captureStacks: boolean;
  /**
   * The claim on `name` (or on an address) as Redis holds it now, to check
   * who may answer; `undefined` with a namespace secret, where every reply
   * that arrives is signed by a holder of the secret and its `from` trusted.
   */
  claimOf: ((name: string) => Promise<ClaimState>) | undefined;
  /** Spans of tells and asks (tracing.ts); undefined without tracing. */
  tracing?: Tracing | undefined;
}

const ignore = (): void => undefined;

export class AskClient {
  private readonly pending = new PendingAsks();
  private readonly senders = new Map<string, MessageSender>();
  private readonly repliers: ReplierCheck | undefined;
  /** An ask that timed out while waiting for room in the write buffer is not sent. */
  private readonly stillPending = (id: string): boolean => this.pending.get(id) !== undefined;

  constructor(private readonly parts: AskClientParts) {
    const { claimOf } = parts;
    this.repliers = claimOf === undefined ? undefined : new ReplierCheck(claimOf);
  }

  /** Asks waiting for their reply. */
  /** How long asks took to settle, as a histogram. */
  durations(): HistogramSnapshot {
    return this.pending.durations.snapshot();
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Tells `to` as `from`. Resolves once Redis delivered it to a subscriber,
   * or stored it in the durable mailbox of `to`; NoRecipientError when
   * nobody listens and `to` has no durable mailbox. An un-awaited failure is
   * counted (`deadLetter`), never an unhandled rejection.
   */
  tell(from: string, to: string, type: string, body: unknown, internal: boolean): Promise<void> {
    const span = this.parts.tracing?.publish('tell', to, type);
    const told = new Promise<void>((resolve, reject) => {
      if (!this.parts.maySend(internal)) {
        reject(new ShuttingDownError());
        return;
      }
      const { outbox, names } = this.parts;
      if (outbox.isDurable(to)) {
        this.tellDurable(from, to, type, body, resolve, reject, span);
        return;
      }
      // The callback keeps no envelope alive: a fallback to a durable mailbox makes its own.
      const envelope = tellEnvelope(outbox.nextId(), from, to, type);
      span?.inject(envelope);
      outbox.send(envelope, body, names.channel(to), (error, receivers) => {
        if (error !== null) reject(error);
        else if (receivers > 0) resolve();
        // Nobody subscribes the name: it may have a durable mailbox.
        else this.tellDurable(from, to, type, body, resolve, reject, span);
      });
    });
    span?.endWith(told);
    told.catch(ignore);
    return told;
  }

  private tellDurable(
    from: string,
    to: string,
    type: string,
    body: unknown,
    resolve: () => void,
    reject: (error: Error) => void,
    span: PublishSpan | undefined,
  ): void {
    const { outbox } = this.parts;
    const envelope = tellEnvelope(outbox.nextId(), from, to, type);
    span?.inject(envelope);
    outbox.sendDurable(envelope, body, to, this.tellAppended(to, type, resolve, reject));
  }

  /** How a tell to a durable mailbox settles. */
  private tellAppended(
    to: string,
    type: string,
    resolve: () => void,
    reject: (error: Error) => void,
  ): AppendCallback {
    return (error, outcome) => {
      const { diagnostics, names } = this.parts;
      if (error !== null) reject(error);
      else if (outcome.kind === 'appended') resolve();
      else if (outcome.kind === 'not-durable') {
        diagnostics.drop(
          'deadLetter',
          'dead-letter',
          `tell "${type}" to ${to} reached no subscriber`,
        );
        reject(new NoRecipientError(to, names.channel(to)));
      } else {
        diagnostics.drop(
          'mailboxFull',
          'mailbox-full',
          `durable mailbox of ${to} is full (${outcome.capacity}); overflow policy "${outcome.overflow}"`,
        );
        if (outcome.overflow === 'reject') reject(new MailboxFullError(to, outcome.capacity));
        else resolve();
      }
    };
  }

  /** How an ask to a durable mailbox goes on once stored (or not). */
  private askAppended(id: string, to: string): AppendCallback {
    return (error, outcome) => {
      if (error !== null) this.pending.reject(id, error);
      else if (outcome.kind === 'not-durable') {
        this.pending.reject(id, new NoRecipientError(to, this.parts.names.channel(to)));
      } else if (outcome.kind === 'full') {
        this.parts.diagnostics.drop(
          'mailboxFull',
          'mailbox-full',
          `durable mailbox of ${to} is full (${outcome.capacity}); overflow policy "${outcome.overflow}"`,
        );
        // 'drop': the asker finds out by timeout, as with any mailbox.
        if (outcome.overflow === 'reject') {
          this.pending.reject(id, new MailboxFullError(to, outcome.capacity));
        }
      }
    };
  }

  /** Asks `to` as `from`; settles once, with the reply or a typed error. */
  ask<Reply>(
    from: string,
    to: string,
    type: string,
    body: unknown,
    options: AskOptions | undefined,
    internal: boolean,
  ): Promise<Reply> {
    const caller = this.parts.captureStacks ? new Error() : undefined;
    const span = this.parts.tracing?.publish('ask', to, type);
    const asked = new Promise<Reply>((resolve, reject) => {
      if (!this.parts.maySend(internal)) {
        reject(new ShuttingDownError());
        return;
      }
      const timeoutMs = options?.timeoutMs ?? this.parts.askTimeoutMs;
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
        reject(new InvalidOptionError('timeoutMs', `must be a positive integer, got ${timeoutMs}`));
        return;
      }
      const { outbox, names } = this.parts;
      const envelope = askEnvelope(
        outbox.nextAskId(),
        from,
        to,
        type,
        this.parts.replyTo,
        timeoutMs,
      );
      span?.inject(envelope);
      const id = envelope.id;
      const channel = names.channel(to);
      const fail =
        caller === undefined
          ? reject
          : (error: Error) => {
              reject(withCallerStack(error, caller));
            };
      this.pending.add(id, to, type, timeoutMs, resolve as (value: unknown) => void, fail, () => {
        const outage = this.parts.inOutage()
          ? 'the connection to Redis is down; reconnecting'
          : undefined;
        return new AskTimeoutError(to, type, timeoutMs, outage);
      });
      if (outbox.isDurable(to)) {
        outbox.sendDurable(envelope, body, to, this.askAppended(id, to), this.stillPending);
        return;
      }
      outbox.send(
        envelope,
        body,
        channel,
        (error, receivers) => {
          if (error !== null) this.pending.reject(id, error);
          else if (receivers === 0 && this.pending.get(id) !== undefined) {
            // Nobody subscribes the name: it may have a durable mailbox.
            outbox.sendDurable(envelope, body, to, this.askAppended(id, to), this.stillPending);
          }
        },
        undefined,
        this.stillPending,
      );
    });
    span?.endWith(asked);
    return asked;
  }

  /** Tell and ask as `address` (an actor of this system), for its handlers. */
  senderFor(address: string): MessageSender {
    let sender = this.senders.get(address);
    if (sender === undefined) {
      sender = {
        tell: (to, type, body) => this.tell(address, to, type, body, true),
        ask: <Reply>(to: string, type: string, body?: unknown, options?: AskOptions) =>
          this.ask<Reply>(address, to, type, body, options, true),
      };
      this.senders.set(address, sender);
    }
    return sender;
  }

  /** Forgets the sender of an actor that stopped. */
  forget(address: string): void {
    this.senders.delete(address);
  }

  /**
   * A reply or error arrived for one of our asks. Without a secret it counts
   * only from who may answer the asked address (see {@link ReplierCheck});
   * anything else is refused as `foreign-reply`, or dropped as late when its
   * ask already ended.
   */
  settle(envelope: ReplyEnvelope): void {
    const ask = this.pending.get(envelope.correlationId);
    if (ask === undefined) this.dropLate(envelope);
    else if (this.repliers === undefined || this.repliers.knownToAnswer(ask.to, envelope.from))
      this.settleWith(envelope, ask.type);
    else this.settleChecked(envelope, ask.to, this.repliers);
  }

  /** A reply from an address that may own the asked name: Redis says whether it does. */
  private settleChecked(envelope: ReplyEnvelope, to: string, repliers: ReplierCheck): void {
    repliers.mayAnswer(to, envelope.from).then(
      (mayAnswer) => {
        const ask = this.pending.get(envelope.correlationId);
        if (ask === undefined) this.dropLate(envelope);
        else if (mayAnswer) this.settleWith(envelope, ask.type);
        else {
          this.parts.diagnostics.refuse(
            new Refusal(
              'foreign-reply',
              `reply to an ask of ${to} came from ${envelope.from}, which may not answer for it`,
            ),
          );
        }
      },
      (error: unknown) => {
        this.parts.diagnostics.refuse(
          new Refusal(
            'unverified-reply',
            `reply from ${envelope.from} to an ask of ${to} not checked (its owner is unknown): ${String(error)}`,
          ),
        );
      },
    );
  }

  private dropLate(envelope: ReplyEnvelope): void {
    this.parts.diagnostics.drop(
      'lateReply',
      'late-reply',
      `reply ${envelope.id} from ${envelope.from} came after its ask ended`,
    );
  }

  private settleWith(envelope: ReplyEnvelope, type: string): void {
    const id = envelope.correlationId;
    if (envelope.kind === 'error') {
      this.pending.reject(id, fromWireError(envelope.body, envelope.from, type));
      return;
    }
    let body: unknown;
    try {
      body = this.parts.codec.body(envelope);
    } catch (error) {
      this.pending.reject(id, error as Error);
      return;
    }
    this.pending.resolve(id, body);
  }

  /** Rejects every pending ask (the system stops). */
  rejectAll(error: () => Error): void {
    this.pending.rejectAll(error);
  }
}

/** `error` with the stack of where its ask was made appended (the stack it had is a timer's). */
function withCallerStack(error: Error, caller: Error): Error {
  const where = caller.stack?.split('\n').slice(1).join('\n');
  if (where !== undefined && where !== '')
    error.stack = `${error.stack ?? String(error)}\n  -- the ask was made:\n${where}`;
  return error;
}
