/**
 * A broker inside this process, for fast unit tests of logic above the
 * transport (dispatch order, settling asks, claim-check refusals, dedupe):
 * PUBLISH/SUBSCRIBE between the transports it hands out, and the few string
 * and sorted-set commands the claim check and the registry use (no Lua, so no
 * name claims, and no expiry). Delivery is asynchronous and in order, as
 * from Redis; nothing here pretends to be Redis for anything else, so every
 * behaviour that crosses Redis keeps its integration test.
 */
import { EventEmitter } from 'node:events';
import { ShuttingDownError } from '../errors.js';
import { RedisReplyError } from './resp.js';
import type { CommandArgument, RespValue } from './resp.js';
import type {
  DedicatedConnection,
  MessageHandler,
  PublishCallback,
  ReplyCallback,
  Transport,
  TransportEvents,
  TransportState,
} from './transport.js';

const bytesOf = (argument: CommandArgument): Buffer =>
  typeof argument === 'string'
    ? Buffer.from(argument)
    : Buffer.isBuffer(argument)
      ? argument
      : Buffer.concat(argument);

export class InProcessBroker {
  private readonly subscribers = new Map<string, Set<InProcessTransport>>();
  private readonly strings = new Map<string, Buffer>();
  /** Sorted sets, enough for the registry: member → score. */
  private readonly sortedSets = new Map<string, Map<string, number>>();

  /** A transport connected to this broker. */
  connect(name = 'in-process'): InProcessTransport {
    return new InProcessTransport(this, name);
  }

  /** @internal */
  subscribe(channel: string, transport: InProcessTransport): void {
    let set = this.subscribers.get(channel);
    if (set === undefined) this.subscribers.set(channel, (set = new Set()));
    set.add(transport);
  }

  /** @internal */
  unsubscribe(channel: string, transport: InProcessTransport): void {
    this.subscribers.get(channel)?.delete(transport);
  }

  /** @internal Delivers `payload` to every subscriber of `channel`; returns how many. */
  publish(channel: string, payload: Buffer): number {
    const receivers = [...(this.subscribers.get(channel) ?? [])];
    for (const receiver of receivers) receiver.deliver(channel, payload);
    return receivers.length;
  }

  /** @internal */
  command(args: readonly CommandArgument[]): RespValue {
    const name = String(args[0] ?? '').toUpperCase();
    const key = String(args[1] ?? '');
    switch (name) {
      case 'PING':
        return 'PONG';
      case 'SET':
        this.strings.set(key, bytesOf(args[2] ?? ''));
        return 'OK';
      case 'GET':
        return this.strings.get(key) ?? null;
      case 'GETRANGE': {
        const value = this.strings.get(key) ?? Buffer.alloc(0);
        return value.subarray(Number(args[2]), Number(args[3]) + 1);
      }
      case 'DEL': {
        let deleted = 0;
        for (const each of args.slice(1)) if (this.strings.delete(String(each))) deleted++;
        return deleted;
      }
      case 'PUBLISH':
        return this.publish(key, bytesOf(args[2] ?? ''));
      case 'MGET':
        return args.slice(1).map((each) => this.strings.get(String(each)) ?? null);
      case 'PEXPIRE':
        // Time does not pass for the in-process broker: keys live until deleted.
        return this.strings.has(key) || this.sortedSets.has(key) ? 1 : 0;
      case 'ZADD': {
        const set = this.sortedSets.get(key) ?? new Map<string, number>();
        this.sortedSets.set(key, set);
        for (let i = 2; i + 1 < args.length; i += 2) set.set(String(args[i + 1]), Number(args[i]));
        return (args.length - 2) / 2;
      }
      case 'ZREM': {
        let removed = 0;
        for (const member of args.slice(2))
          if (this.sortedSets.get(key)?.delete(String(member))) removed++;
        return removed;
      }
      case 'ZRANGEBYSCORE':
      case 'ZREMRANGEBYSCORE': {
        const set = this.sortedSets.get(key) ?? new Map<string, number>();
        const bound = (text: string, low: boolean): ((score: number) => boolean) => {
          if (text === '-inf' || text === '+inf') return () => true;
          const exclusive = text.startsWith('(');
          const value = Number(exclusive ? text.slice(1) : text);
          if (low) return (score) => (exclusive ? score > value : score >= value);
          return (score) => (exclusive ? score < value : score <= value);
        };
        const min = bound(String(args[2]), true);
        const max = bound(String(args[3]), false);
        const members = [...set].filter(([, score]) => min(score) && max(score));
        if (name === 'ZRANGEBYSCORE') {
          return members.sort((a, b) => a[1] - b[1]).map(([member]) => Buffer.from(member));
        }
        for (const [member] of members) set.delete(member);
        return members.length;
      }
      default:
        return new RedisReplyError(`ERR ${name} is not supported by the in-process broker`);
    }
  }
}

export class InProcessTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly displayUrl: string;
  readonly publishCommand = 'PUBLISH';
  /** Nothing waits to be written here; a test may set it to simulate a congested socket. */
  backlogBytes = 0;
  private readonly handlers = new Map<string, MessageHandler>();
  private closed = false;
  private written = 0;

  constructor(
    private readonly broker: InProcessBroker,
    name: string,
  ) {
    super();
    this.displayUrl = `memory://${name}`;
  }

  get state(): TransportState {
    return {
      connected: !this.closed,
      subscribed: !this.closed,
      subscriptions: this.handlers.size,
      commandsInFlight: 0,
      writes: this.written,
    };
  }

  /** @internal Called by the broker: the message arrives on a later microtask, in order. */
  deliver(channel: string, payload: Buffer): void {
    queueMicrotask(() => {
      const handler = this.handlers.get(channel);
      if (handler === undefined) return;
      try {
        handler(payload, channel);
      } catch (error) {
        this.emit('listener-error', error, channel);
      }
    });
  }

  publish(
    channel: string,
    payload: string | Buffer | readonly Buffer[],
    callback: PublishCallback,
  ): void {
    this.send(['PUBLISH', channel, payload], (error, reply) => {
      callback(error, typeof reply === 'number' ? reply : 0);
    });
  }

  publishMergeable(channel: string, payload: string, callback: PublishCallback): void {
    this.publish(channel, payload, callback);
  }

  command(args: readonly CommandArgument[]): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      this.send(args, (error, reply) => {
        if (error === null) resolve(reply);
        else reject(error);
      });
    });
  }

  send(args: readonly CommandArgument[], callback: ReplyCallback): void {
    if (this.closed) {
      queueMicrotask(() => {
        callback(new ShuttingDownError('the in-process transport'), null);
      });
      return;
    }
    this.written++;
    const reply = this.broker.command(args);
    queueMicrotask(() => {
      if (reply instanceof RedisReplyError) callback(reply, null);
      else callback(null, reply);
    });
  }

  subscribe(channel: string, handler: MessageHandler): Promise<void> {
    this.handlers.set(channel, handler);
    this.broker.subscribe(channel, this);
    return Promise.resolve();
  }

  unsubscribe(channel: string): Promise<void> {
    this.handlers.delete(channel);
    this.broker.unsubscribe(channel, this);
    return Promise.resolve();
  }

  psubscribe(): Promise<void> {
    return Promise.reject(new Error('patterns are not supported by the in-process transport'));
  }

  punsubscribe(): Promise<void> {
    return Promise.resolve();
  }

  reconnectSubscriber(): void {
    queueMicrotask(() => this.emit('up'));
  }

  openDedicated(): Promise<DedicatedConnection> {
    return Promise.reject(
      new Error('dedicated connections are not supported by the in-process transport'),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    for (const channel of this.handlers.keys()) this.broker.unsubscribe(channel, this);
    this.handlers.clear();
    return Promise.resolve();
  }
}
