/**
 * Defining actors: an object of handlers keyed by message type.
 *
 * ```ts
 * const counter = defineActor({
 *   handlers: {
 *     add: (n: number, ctx) => { total += n; return total; },
 *     reset: () => { total = 0; },
 *   },
 * });
 * ```
 *
 * The body type of each message is the type of its handler's first parameter,
 * the reply type is what the handler returns; {@link ActorRef} uses both.
 */
import type { MailboxOptions } from './options.js';

/** Options of one `ask`. */
export interface AskOptions {
  /**
   * How long to wait for the reply.
   * @default the system's askTimeoutMs (5000)
   */
  timeoutMs?: number;
}

/** What a handler knows about the message it handles. */
export interface MessageInfo {
  /** Unique id of the message. */
  readonly id: string;
  readonly kind: 'tell' | 'ask';
  readonly type: string;
  /** Address of the sender. */
  readonly from: string;
  /** Address or name the sender used to reach this actor. */
  readonly to: string;
  /** When the sender sent it, in ms since the epoch. */
  readonly sentAt: number;
  /** For asks: when the asker stops waiting, in ms since the epoch. */
  readonly deadline: number | undefined;
  /**
   * 1 on the first delivery. A message of a durable mailbox is delivered
   * again after its handler failed or its consumer died: the id stays the same.
   */
  readonly deliveryCount: number;
  /** Whether it came from a durable mailbox (at-least-once: it may be a redelivery). */
  readonly durable: boolean;
}

/** Sending messages: available on the actor system and inside handlers. */
export interface MessageSender {
  /** Sends a one-way message; resolves once Redis delivered it to at least one subscriber. */
  tell(to: string, type: string, body?: unknown): Promise<void>;
  /** Sends a request and resolves with the reply body. */
  ask<Reply = unknown>(
    to: string,
    type: string,
    body?: unknown,
    options?: AskOptions,
  ): Promise<Reply>;
}

/** The second argument of every handler. */
export interface HandlerContext extends MessageSender {
  /** The message being handled. */
  readonly message: MessageInfo;
  /** Address of the sender (same as `message.from`). */
  readonly sender: string;
  /** This actor's address. */
  readonly self: string;
  /**
   * Replies to the ask being handled (the first call wins; later calls and
   * calls while handling a tell do nothing). Without a call, the handler's
   * return value is the reply.
   */
  reply(body?: unknown): void;
  /**
   * Runs `fn` once per `key` across the deliveries of a message (and across
   * the members of a pool): the first call runs it and remembers its result
   * (JSON, up to 1 MiB) for `ttlMs`; later calls return that result without
   * running `fn`. While another live consumer runs it, rejects with
   * OnceInProgressError (let the handler fail: the message comes again). If
   * `fn` throws, nothing is remembered. A process that dies after the effect
   * and before the result is stored leaves it to run again: see
   * docs/RELIABILITY.md, "Durable mailboxes".
   */
  once<T>(key: string, fn: () => T | Promise<T>, options?: OnceOptions): Promise<T>;
}

/** Options of {@link HandlerContext.once}. */
export interface OnceOptions {
  /**
   * How long the result is remembered.
   * @default 86400000 (a day)
   */
  ttlMs?: number;
}

/** What `onStart` and `onStop` receive. */
export interface ActorLifecycleContext extends MessageSender {
  /** This actor's address. */
  readonly self: string;
}

/** A message handler. Its `body` parameter type is the message's body type. */
export type Handler<Body = never, Reply = unknown> = (
  body: Body,
  context: HandlerContext,
) => Reply | Promise<Reply>;

/** Handlers keyed by message type. */
export type Handlers = Record<string, Handler>;

/** An actor: handlers plus optional lifecycle hooks and mailbox settings. */
export interface ActorDefinition<H extends Handlers = Handlers> {
  /** Handlers keyed by message type. */
  handlers: H;
  /** Mailbox settings; unset fields come from the system's `mailbox` option. */
  mailbox?: MailboxOptions;
  /** Runs once, after the mailbox is subscribed and before the spawn resolves. */
  onStart?: (context: ActorLifecycleContext) => void | Promise<void>;
  /** Runs once when the actor stops, after its last message. */
  onStop?: (context: ActorLifecycleContext) => void | Promise<void>;
}

/** Identity function that infers precise handler types (for typed refs). */
export function defineActor<H extends Handlers>(
  definition: ActorDefinition<H>,
): ActorDefinition<H> {
  return definition;
}

/** Handlers of definition `D`, or `undefined` for an untyped (string-indexed) definition. */
type TypedHandlers<D> =
  D extends ActorDefinition<infer H> ? (string extends keyof H ? undefined : H) : undefined;

/** Body type of message `K` of actor definition `D` (`unknown` when untyped). */
export type BodyOf<D, K extends string> =
  TypedHandlers<D> extends infer H extends Handlers
    ? K extends keyof H
      ? Parameters<H[K]>[0]
      : never
    : unknown;

/** Reply type of message `K` of actor definition `D` (`unknown` when untyped). */
export type ReplyOf<D, K extends string> =
  TypedHandlers<D> extends infer H extends Handlers
    ? K extends keyof H
      ? Awaited<ReturnType<H[K]>>
      : never
    : unknown;

/** Message types of actor definition `D` (any string when untyped). */
export type MessageTypeOf<D> =
  TypedHandlers<D> extends infer H extends Handlers ? keyof H & string : string;

/** Arguments after the message type: the body is optional when the handler takes none. */
export type BodyArgument<D, K extends string> = [BodyOf<D, K>] extends [undefined]
  ? [body?: BodyOf<D, K>]
  : unknown extends BodyOf<D, K>
    ? [body?: unknown]
    : [body: BodyOf<D, K>];
