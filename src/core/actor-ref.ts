import type {
  ActorDefinition,
  AskOptions,
  BodyArgument,
  MessageSender,
  MessageTypeOf,
  ReplyOf,
} from './actor.js';

type AskArguments<D, K extends string> = [...BodyArgument<D, K>, options?: AskOptions];

/**
 * A handle on an actor, by address or name. Typed by the actor's definition:
 * `system.ref<typeof clock>('clock').ask('time')` checks the message type and
 * body, and knows the reply type.
 */
export class ActorRef<D = ActorDefinition> {
  constructor(
    private readonly sender: MessageSender,
    /** Address (or name) messages are sent to. */
    readonly address: string,
  ) {}

  /** One-way message; resolves once Redis delivered it to at least one subscriber. */
  tell<K extends MessageTypeOf<D>>(type: K, ...body: BodyArgument<D, K>): Promise<void> {
    return this.sender.tell(this.address, type, body[0]);
  }

  /** Request/reply; resolves with the reply body. */
  ask<K extends MessageTypeOf<D>>(type: K, ...args: AskArguments<D, K>): Promise<ReplyOf<D, K>> {
    const [body, options] = args as unknown as [unknown, AskOptions | undefined];
    return this.sender.ask<ReplyOf<D, K>>(this.address, type, body, options);
  }

  toString(): string {
    return this.address;
  }
}
