/**
 * The standalone transport: one publishing and one subscribing connection to
 * one Redis server, shared by every actor of an actor system.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectionError,
  InvalidOptionError,
  PermissionError,
  ShuttingDownError,
} from '../errors.js';
import type { CommandConnectionOptions, ConnectionState } from './command-connection.js';
import { CommandConnection } from './command-connection.js';
import { tuningOf } from './connection-tuning.js';
import { parseRedisUrl, redactUrl } from './redis-url.js';
import type { CommandArgument, RespValue } from './resp.js';
import { SubscriberConnection } from './subscriber-connection.js';
import type {
  DedicatedConnection,
  MessageHandler,
  PublishCallback,
  ReplyCallback,
  Transport,
  TransportEvents,
  TransportOptions,
  TransportState,
} from './transport.js';

export class StandaloneTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly displayUrl: string;
  readonly publishCommand = 'PUBLISH';
  private readonly commands: CommandConnection;
  private readonly subscriber: SubscriberConnection;
  private readonly dedicated = new Set<CommandConnection>();
  private readonly connectionOptions: Omit<CommandConnectionOptions, 'clientName'>;
  private readonly clientName: string;
  private closed = false;

  private constructor(options: TransportOptions) {
    super();
    const endpoint = parseRedisUrl(options.url);
    this.displayUrl = redactUrl(options.url);
    const common = {
      ...tuningOf(options),
      endpoint,
      tls: options.tls ?? {},
      displayUrl: this.displayUrl,
    };
    this.clientName = options.clientName;
    this.connectionOptions = common;
    this.commands = new CommandConnection({
      ...common,
      clientName: `${options.clientName}:pub`,
      ...(options.combinePublishes === undefined
        ? {}
        : { combinePublishes: options.combinePublishes }),
      ...(options.signPayload === undefined ? {} : { signPayload: options.signPayload }),
    });
    this.subscriber = new SubscriberConnection({
      ...common,
      clientName: `${options.clientName}:sub`,
    });
    this.commands.on('down', (error: Error) => this.emit('down', error));
    this.commands.on('writable', () => this.emit('writable'));
    this.subscriber.on('down', (error: Error) => this.emit('down', error));
    this.subscriber.on('listener-error', (error: unknown, channel: string) =>
      this.emit('listener-error', error, channel),
    );
    this.subscriber.on('resubscribe-failed', (error: Error) =>
      this.emit('resubscribe-failed', error),
    );
    const emitUpWhenBoth = (): void => {
      if (this.commands.state === 'ready' && this.subscriber.isReady) this.emit('up');
    };
    this.commands.on('ready', emitUpWhenBoth);
    this.subscriber.on('ready', emitUpWhenBoth);
  }

  /** Opens both connections; rejects with {@link ConnectionError} naming the URL. */
  static async connect(options: TransportOptions): Promise<StandaloneTransport> {
    if (!/^[\w.:/~-]+$/.test(options.clientName)) {
      throw new InvalidOptionError(
        'clientName',
        `"${options.clientName}" has characters Redis refuses`,
      );
    }
    const transport = new StandaloneTransport(options);
    const results = await Promise.allSettled([
      transport.commands.connect(),
      transport.subscriber.connect(),
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      await transport.close();
      // An ACL refusal (SELECT) is said as such, not as a server that is not there.
      const permission = results.find(
        (result) => result.status === 'rejected' && result.reason instanceof PermissionError,
      );
      if (permission?.status === 'rejected') throw permission.reason as PermissionError;
      throw failure.reason instanceof ConnectionError
        ? failure.reason
        : new ConnectionError(transport.displayUrl, String(failure.reason));
    }
    return transport;
  }

  get state(): TransportState {
    return {
      connected: this.commands.state === 'ready',
      subscribed: this.subscriber.isReady,
      subscriptions: this.subscriber.channelCount,
      commandsInFlight: this.commands.inFlight,
      writes: this.commands.writes,
    };
  }

  /** Bytes given to the publishing connection and not yet written to its socket. */
  get backlogBytes(): number {
    return this.commands.backlogBytes;
  }

  get publisherState(): ConnectionState {
    return this.commands.state;
  }

  /** PUBLISH, batched with every other command of this event-loop turn. */
  publish(
    channel: string,
    payload: string | Buffer | readonly Buffer[],
    callback: PublishCallback,
  ): void {
    this.commands.send(['PUBLISH', channel, payload], (error, reply) => {
      callback(
        error === null ? null : this.commands.refused(error, 'PUBLISH'),
        typeof reply === 'number' ? reply : 0,
      );
    });
  }

  /**
   * PUBLISH that may travel in one message with the mergeable publishes to the
   * same channel right before it, joined by `combinePublishes`.
   */
  publishMergeable(channel: string, payload: string, callback: PublishCallback): void {
    this.commands.publishMergeable(channel, payload, callback);
  }

  /** Any other Redis command (keys, lists, …), on the publishing connection. */
  command(args: readonly CommandArgument[]): Promise<RespValue> {
    return this.commands.call(args);
  }

  /** Callback form of {@link command}. */
  send(args: readonly CommandArgument[], callback: ReplyCallback): void {
    this.commands.send(args, (error, reply) => {
      callback(error === null ? null : this.commands.refused(error, String(args[0])), reply);
    });
  }

  subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return this.subscriber.subscribe(channel, handler);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.subscriber.unsubscribe(channel);
  }

  psubscribe(pattern: string, handler: MessageHandler): Promise<void> {
    return this.subscriber.psubscribe(pattern, handler);
  }

  punsubscribe(pattern: string): Promise<void> {
    return this.subscriber.punsubscribe(pattern);
  }

  /**
   * Replaces the subscribing connection (then resubscribes every channel): for
   * when a probe shows the mailbox deaf although the connection looks ready.
   */
  reconnectSubscriber(): void {
    this.subscriber.reconnect();
  }

  /**
   * Opens another connection to the same server, for commands that block a
   * connection (BLPOP and the like) and so cannot share the pipelined one. It
   * reconnects like the others, has the same liveness check (keep each blocking
   * command's timeout below healthCheckTimeoutMs), and is closed with the transport.
   */
  async openDedicated(name: string): Promise<DedicatedConnection> {
    if (this.closed) throw new ShuttingDownError('the transport');
    const connection = new CommandConnection({
      ...this.connectionOptions,
      clientName: `${this.clientName}:${name}`,
    });
    this.dedicated.add(connection);
    try {
      await connection.connect();
    } catch (error) {
      this.dedicated.delete(connection);
      throw error;
    }
    return {
      call: (args) => connection.call(args),
      unblock: async () => {
        const id = connection.clientId;
        if (id !== undefined && this.commands.state === 'ready') {
          await this.commands.call(['CLIENT', 'UNBLOCK', String(id)]);
        }
      },
      close: async (graceMs) => {
        this.dedicated.delete(connection);
        await connection.close(graceMs);
      },
    };
  }

  /** Closes both connections, after replies to commands already sent (up to `graceMs`). */
  async close(graceMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([
      this.subscriber.close(),
      this.commands.close(graceMs),
      ...[...this.dedicated].map((connection) => connection.close(graceMs)),
    ]);
  }
}
