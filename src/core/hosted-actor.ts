/**
 * An actor running in this process: its handlers, its bounded mailbox, and the
 * handling of one message at a time (lookup, body decoding, reply or error).
 */
import type {
  ActorDefinition,
  ActorLifecycleContext,
  AskOptions,
  Handler,
  HandlerContext,
  MessageInfo,
  MessageSender,
  OnceOptions,
} from './actor.js';
import type { Delivery } from '../durable/index.js';
import { UnknownMessageTypeError } from '../errors.js';
import type { AskEnvelope, RequestEnvelope } from '../wire/index.js';
import { Mailbox } from './mailbox.js';
import type { ResolvedMailboxOptions } from './options.js';
import type { ActorStats, DropCounts } from './stats.js';
import type { ProcessSpan, Tracing } from './tracing.js';

/** What a hosted actor needs from its actor system. */
export interface ActorRuntime {
  /** True once the system stops: waiting messages are refused instead of handled. */
  isDraining(): boolean;
  decodeBody(envelope: RequestEnvelope): unknown;
  reply(ask: AskEnvelope, from: string, body: unknown): void;
  replyError(ask: AskEnvelope, from: string, error: unknown, origin: 'framework' | 'handler'): void;
  /** True (and the ask dropped, counted) when its deadline passed; `where` says when it was seen. */
  expired(envelope: RequestEnvelope, where: string): boolean;
  /** Refuses a message because `actor` stops: an ask is told so, a tell counted. */
  refuseStopping(envelope: RequestEnvelope, actor: string): void;
  /** Counts a dropped message; logs the first drop of each `reason`. */
  drop(kind: keyof DropCounts, reason: string, message: string): void;
  /** Logs the first event of each `reason` (handler failures are counted per actor). */
  logOnce(reason: string, message: string): void;
  /** Tell and ask with `from` set to this actor's address. */
  senderFor(address: string): MessageSender;
  /** Spans of handler runs (tracing.ts); undefined without tracing. */
  readonly tracing?: Tracing | undefined;
  /** `ctx.once` of the actor at `address`, its marks kept under `scope` (its name or address). */
  once<T>(
    address: string,
    scope: string,
    key: string,
    fn: () => T | Promise<T>,
    options: OnceOptions | undefined,
  ): Promise<T>;
}

export class HostedActor {
  readonly mailbox: Mailbox<RequestEnvelope>;
  readonly startedAt = Date.now();
  /** Set when the actor is being stopped: waiting messages are refused. */
  retiring = false;
  readonly lifecycleContext: ActorLifecycleContext;
  private readonly handlers: ReadonlyMap<string, Handler>;
  private readonly sender: MessageSender;
  private handled = 0;
  private failedCount = 0;
  /** Tells and asks its handlers and lifecycle hooks sent, and the replies they gave. */
  private sentCount = 0;
  /** Messages handled by type; bounded by the handlers, since only their types get here. */
  private readonly handledTypes = new Map<string, { count: number }>();
  /** Said of an ask that expired in this mailbox (built once, not per message). */
  private readonly waitedWhere: string;
  private readonly poolMember: boolean;
  private readonly onceScope: string;
  /** A durable mailbox's entries being handled, with the deliveries that settle them. */
  private readonly deliveries: Map<RequestEnvelope, Delivery> | undefined;

  constructor(
    readonly address: string,
    readonly name: string | undefined,
    readonly definition: ActorDefinition,
    mailboxOptions: ResolvedMailboxOptions,
    private readonly runtime: ActorRuntime,
  ) {
    // A Map, so that types like "constructor" or "__proto__" never reach Object.prototype.
    this.handlers = new Map(Object.entries(definition.handlers));
    for (const type of this.handlers.keys()) this.handledTypes.set(type, { count: 0 });
    this.mailbox = new Mailbox(mailboxOptions, (envelope) => this.handle(envelope));
    this.sender = this.counting(runtime.senderFor(address));
    this.waitedWhere = `waited in the mailbox of ${address} until`;
    this.deliveries = mailboxOptions.durable ? new Map() : undefined;
    this.poolMember = mailboxOptions.pool;
    this.onceScope = name ?? address;
    this.lifecycleContext = {
      self: address,
      tell: (to, type, body) => this.sender.tell(to, type, body),
      ask: (to, type, body, options) => this.sender.ask(to, type, body, options),
    };
  }

  /** Queues an incoming tell or ask; false when the mailbox is full. */
  accept(envelope: RequestEnvelope): boolean {
    return this.mailbox.offer(envelope);
  }

  /** Whether it shares its name and durable mailbox with other processes. */
  get isPoolMember(): boolean {
    return this.poolMember;
  }

  /** Whether its mailbox is durable (a stream, not its name's channel). */
  get isDurable(): boolean {
    return this.deliveries !== undefined;
  }

  /** Queues an entry of the durable mailbox; false when this actor takes no more. */
  acceptDelivery(envelope: RequestEnvelope, delivery: Delivery): boolean {
    if (this.deliveries === undefined || this.retiring) return false;
    this.deliveries.set(envelope, delivery);
    if (this.mailbox.offer(envelope)) return true;
    this.deliveries.delete(envelope);
    return false;
  }

  /** Whether the definition has a handler for `type`. */
  handles(type: string): boolean {
    return this.handlers.has(type);
  }

  stats(): ActorStats {
    return {
      address: this.address,
      name: this.name,
      mailboxDepth: this.mailbox.waiting,
      mailboxCapacity: this.mailbox.options.capacity,
      processing: this.mailbox.running,
      handled: this.handled,
      failed: this.failedCount,
      sent: this.sentCount,
      handledByType: Object.fromEntries(
        [...this.handledTypes].map(([type, { count }]) => [type, count]),
      ),
      durable: this.deliveries !== undefined,
      pool: this.poolMember,
    };
  }

  /** The sender its contexts use, counting what they send. */
  private counting(sender: MessageSender): MessageSender {
    return {
      tell: (to, type, body) => {
        this.sentCount++;
        return sender.tell(to, type, body);
      },
      ask: (to, type, body, options) => {
        this.sentCount++;
        return sender.ask(to, type, body, options);
      },
    };
  }

  private countHandled(type: string): void {
    this.handled++;
    // One lookup, no insertion: the counters exist from the start, one per handler.
    const counter = this.handledTypes.get(type);
    if (counter !== undefined) counter.count++;
  }

  /** Handles one message; returns a promise only when the handler did. */
  private handle(envelope: RequestEnvelope): void | Promise<void> {
    if (this.deliveries !== undefined) return this.handleDelivered(envelope);
    const runtime = this.runtime;
    const type = envelope.type;
    if (runtime.expired(envelope, this.waitedWhere)) return;
    if (this.retiring || runtime.isDraining()) {
      runtime.refuseStopping(envelope, this.address);
      return;
    }
    const handler = this.handlers.get(type);
    if (handler === undefined) {
      const error = new UnknownMessageTypeError(this.address, type, [...this.handlers.keys()]);
      this.refuse(envelope, this.address, undefined, error, 'unknownType', 'unknown-type');
      return;
    }
    let body: unknown;
    try {
      body = runtime.decodeBody(envelope);
    } catch (error) {
      this.refuse(envelope, this.address, undefined, error as Error, 'invalid', 'invalid-body');
      return;
    }
    const context = new MessageContext(
      envelope,
      this.address,
      this.address,
      this.sender,
      runtime,
      undefined,
      this.onceScope,
    );
    const span = (context.span = runtime.tracing?.process(envelope));
    let result: unknown;
    try {
      result =
        span === undefined
          ? handler(body as never, context)
          : span.run(handler, body as never, context);
    } catch (error) {
      this.failed(envelope, context, error);
      return;
    }
    if (!isThenable(result)) {
      this.succeeded(envelope, context, result);
      return;
    }
    return Promise.resolve(result).then(
      (value) => {
        this.succeeded(envelope, context, value);
      },
      (error: unknown) => {
        this.failed(envelope, context, error);
      },
    );
  }

  /**
   * An entry of the durable mailbox: as handle(), with the delivery that
   * settles it. A method of its own, not a branch in handle(): the pub/sub
   * path is the one every message takes, and it is kept as lean as it was
   * (`npm run bench -- --base`: apart, CPU per ask 1.01x the version before
   * durable mailboxes; sharing one tail with this, 1.05x).
   */
  private handleDelivered(envelope: RequestEnvelope): void | Promise<void> {
    const runtime = this.runtime;
    const type = envelope.type;
    const delivery = this.takeDelivery(envelope);
    if (runtime.expired(envelope, this.waitedWhere)) {
      delivery?.ack();
      return;
    }
    if (this.retiring || runtime.isDraining()) {
      // A durable message stays in the stream, for another consumer or the next start.
      if (delivery !== undefined) delivery.release();
      else runtime.refuseStopping(envelope, this.address);
      return;
    }
    // A durable mailbox answers as its name: any member of a pool may take an ask.
    const replyAs = delivery === undefined ? this.address : envelope.to;
    const handler = this.handlers.get(type);
    if (handler === undefined) {
      const error = new UnknownMessageTypeError(this.address, type, [...this.handlers.keys()]);
      this.refuse(envelope, replyAs, delivery, error, 'unknownType', 'unknown-type');
      return;
    }
    let body: unknown;
    try {
      body = runtime.decodeBody(envelope);
    } catch (error) {
      this.refuse(envelope, replyAs, delivery, error as Error, 'invalid', 'invalid-body');
      return;
    }
    const context = new MessageContext(
      envelope,
      this.address,
      replyAs,
      this.sender,
      runtime,
      delivery,
      this.onceScope,
    );
    const span = (context.span = runtime.tracing?.process(envelope));
    let result: unknown;
    try {
      result =
        span === undefined
          ? handler(body as never, context)
          : span.run(handler, body as never, context);
    } catch (error) {
      this.failed(envelope, context, error);
      return;
    }
    // Synchronous handlers finish here, without a microtask per message.
    if (!isThenable(result)) {
      this.succeeded(envelope, context, result);
      return;
    }
    return Promise.resolve(result).then(
      (value) => {
        this.succeeded(envelope, context, value);
      },
      (error: unknown) => {
        this.failed(envelope, context, error);
      },
    );
  }

  private takeDelivery(envelope: RequestEnvelope): Delivery | undefined {
    const delivery = this.deliveries?.get(envelope);
    this.deliveries?.delete(envelope);
    return delivery;
  }

  /** A message no handler can take (no handler for its type, a body that does not decode). */
  private refuse(
    envelope: RequestEnvelope,
    replyAs: string,
    delivery: Delivery | undefined,
    error: Error,
    kind: 'unknownType' | 'invalid',
    reason: string,
  ): void {
    if (envelope.kind === 'ask') {
      this.runtime.replyError(envelope, replyAs, error, 'framework');
      delivery?.ack();
      return;
    }
    this.runtime.drop(kind, reason, error.message);
    // Every delivery would fail the same way: straight to the dead letters.
    delivery?.bury(`${reason}: ${error.message}`);
  }

  private succeeded(envelope: RequestEnvelope, context: MessageContext, result: unknown): void {
    this.countHandled(envelope.type);
    if (envelope.kind === 'ask' && !context.replied) {
      context.replied = true;
      this.sentCount++;
      this.runtime.reply(envelope, context.replyAs, result);
    }
    context.delivery?.ack();
    context.span?.end();
  }

  private failed(envelope: RequestEnvelope, context: MessageContext, error: unknown): void {
    this.countHandled(envelope.type);
    this.failedCount++;
    const delivery = context.delivery;
    if (envelope.kind === 'ask' && !context.replied) {
      context.replied = true;
      this.sentCount++;
      this.runtime.replyError(envelope, context.replyAs, error, 'handler');
      // The error is the ask's answer: it is not tried again.
      delivery?.ack();
    } else if (delivery !== undefined) {
      this.runtime.logOnce(
        `handler-failed:${envelope.type}`,
        `${this.address} failed handling durable ${envelope.kind} "${envelope.type}" ` +
          `(delivery ${delivery.deliveryCount}; retried, then dead-lettered): ${String(error)}`,
      );
      if (envelope.kind === 'ask') delivery.ack();
      else delivery.retry(error);
    } else {
      this.runtime.logOnce(
        `handler-failed:${envelope.type}`,
        `${this.address} failed handling ${envelope.kind} "${envelope.type}": ${String(error)}`,
      );
    }
    context.span?.fail(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

class MessageContext implements HandlerContext {
  replied = false;
  /** The CONSUMER span of this handler run, when traced. */
  span: ProcessSpan | undefined = undefined;
  private info: MessageInfo | undefined;

  constructor(
    private readonly envelope: RequestEnvelope,
    readonly self: string,
    /** The address replies come from: the actor's, or a durable mailbox's name. */
    readonly replyAs: string,
    private readonly messenger: MessageSender,
    private readonly runtime: ActorRuntime,
    /** For an entry of a durable mailbox: what settles it. */
    readonly delivery: Delivery | undefined,
    /** Whose `once` marks these are: the actor's name, else its address. */
    private readonly onceScope: string,
  ) {}

  get message(): MessageInfo {
    const envelope = this.envelope;
    this.info ??= {
      id: envelope.id,
      kind: envelope.kind,
      type: envelope.type,
      from: envelope.from,
      to: envelope.to,
      sentAt: envelope.sentAt,
      deadline: envelope.kind === 'ask' ? envelope.deadline : undefined,
      deliveryCount: this.delivery?.deliveryCount ?? 1,
      durable: this.delivery !== undefined,
    };
    return this.info;
  }

  get sender(): string {
    return this.envelope.from;
  }

  once<T>(key: string, fn: () => T | Promise<T>, options?: OnceOptions): Promise<T> {
    return this.runtime.once(this.self, this.onceScope, key, fn, options);
  }

  reply(body?: unknown): void {
    if (this.replied || this.envelope.kind !== 'ask') return;
    this.replied = true;
    this.runtime.reply(this.envelope, this.replyAs, body);
  }

  tell(to: string, type: string, body?: unknown): Promise<void> {
    return this.messenger.tell(to, type, body);
  }

  ask<Reply = unknown>(
    to: string,
    type: string,
    body?: unknown,
    options?: AskOptions,
  ): Promise<Reply> {
    return this.messenger.ask<Reply>(to, type, body, options);
  }
}
