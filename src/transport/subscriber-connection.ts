/**
 * The subscribing connection, on ioredis (whose reply parser handles pushed
 * messages fast). We keep the list of channels ourselves and resubscribe after
 * every reconnect, instead of ioredis's autoResubscribe, so that a refused
 * resubscribe becomes an event we handle rather than an unhandled rejection.
 */
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { ConnectionError, PermissionError, ShuttingDownError } from '../errors.js';
import { settledWithin } from '../util/index.js';
import { LivenessCheck } from './liveness-check.js';
import { serverNameFor } from './tls.js';
import type { CommandConnectionOptions } from './command-connection.js';
import type { MessageHandler } from './transport.js';

export type { MessageHandler } from './transport.js';

/**
 * How long an UNSUBSCRIBE or QUIT may wait for Redis's answer. ioredis retries
 * forever (maxRetriesPerRequest: null) and a server that went away would make
 * stop() hang; closing the connection ends the subscriptions anyway.
 */
const CONFIRM_TIMEOUT_MS = 1000;

export interface SubscriberConnectionOptions extends Omit<
  CommandConnectionOptions,
  'combinePublishes' | 'publishCommand'
> {
  /** Channels with SSUBSCRIBE (sharded pub/sub, Redis Cluster) instead of SUBSCRIBE. @default false */
  sharded?: boolean;
}

/**
 * Events: `ready` (connected; emitted again after each reconnect, once every
 * channel is resubscribed), `moved` (sharded: a subscription was refused with
 * MOVED, or ended by the server because its slot moved), `down` (error), `resubscribe-failed` (error; once
 * per outage; the resubscribe is retried every maxReconnectDelayMs until it
 * succeeds or the connection is closed), `listener-error` (error, channel: a
 * message handler threw; the message is lost, the subscription goes on).
 */
export class SubscriberConnection extends EventEmitter {
  private readonly redis: Redis;
  private readonly channels = new Map<string, MessageHandler>();
  private readonly patterns = new Map<string, MessageHandler>();
  private connectedOnce = false;
  private closed = false;
  private ready = false;
  private readonly liveness: LivenessCheck;
  /** Counts connections, so that a PING answered on an earlier one is not taken for this one's. */
  private connectionNumber = 0;
  private pingOutstanding = false;
  private resubscribing = false;
  private resubscribeFailureReported = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SubscriberConnectionOptions) {
    super();
    this.redis = new Redis(toIoredisOptions(options));
    this.liveness = new LivenessCheck({
      intervalMs: options.healthCheckIntervalMs,
      timeoutMs: options.healthCheckTimeoutMs,
      bytesRead: () => this.redis.stream.bytesRead,
      bytesUnsent: () => this.redis.stream.writableLength,
      isAwaitingReply: () => this.pingOutstanding || this.resubscribing,
      ping: () => {
        this.ping();
      },
      onDead: () => {
        // ioredis reconnects (and we resubscribe) as after any lost connection.
        this.redis.disconnect(true);
      },
    });
    // A listener that throws must not reach ioredis's parser (and uncaughtException):
    // whatever arrives may come from a stranger, and the next message must still be read.
    const onMessage = (channel: Buffer, message: Buffer): void => {
      const name = channel.toString();
      const handler = this.channels.get(name);
      if (handler === undefined) return;
      try {
        handler(message, name);
      } catch (error) {
        this.emit('listener-error', error, name);
      }
    };
    this.redis.on(options.sharded === true ? 'smessageBuffer' : 'messageBuffer', onMessage);
    // ioredis leaves an SSUBSCRIBE answered with MOVED unsettled: the owner (a cluster
    // transport) hears of it here, refreshes its slot map and subscribes elsewhere.
    this.redis.on('moved', () => this.emit('moved'));
    this.redis.on('pmessageBuffer', (pattern: string, channel: Buffer, message: Buffer) => {
      const handler = this.patterns.get(pattern);
      if (handler === undefined) return;
      const name = channel.toString();
      try {
        handler(message, name);
      } catch (error) {
        this.emit('listener-error', error, name);
      }
    });
    // Without a listener ioredis prints every connection error; the state events say enough.
    this.redis.on('error', (error: Error) => {
      // A cluster node ends the sharded subscriptions of a slot that moved away, unasked;
      // ioredis finds no command for that SUNSUBSCRIBE and says so here. The owner re-reads
      // the slot map and subscribes where the slot went.
      if (options.sharded === true && /Last reply: sunsubscribe/i.test(error.message)) {
        this.emit('moved');
      }
    });
    this.redis.on('close', () => {
      this.liveness.stop();
      clearTimeout(this.retryTimer);
      if (this.ready && !this.closed) {
        this.ready = false;
        this.emit(
          'down',
          new ConnectionError(options.displayUrl, 'subscriber connection lost; reconnecting'),
        );
      }
    });
    this.redis.on('ready', () => {
      this.connectionNumber++;
      this.pingOutstanding = false;
      if (this.closed) return;
      this.liveness.start();
      if (!this.connectedOnce) return;
      void this.resubscribeAll();
    });
  }

  /** True while connected with every channel subscribed. */
  get isReady(): boolean {
    return this.ready;
  }

  get channelCount(): number {
    return this.channels.size + this.patterns.size;
  }

  async connect(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (cause) {
      this.closed = true;
      this.redis.disconnect();
      throw new ConnectionError(this.options.displayUrl, (cause as Error).message, { cause });
    }
    this.connectedOnce = true;
    this.ready = true;
  }

  /** Subscribes `channel`; resolves once Redis confirmed the subscription. */
  async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    this.assertOpen();
    this.channels.set(channel, handler);
    try {
      await (this.options.sharded === true
        ? this.redis.ssubscribe(channel)
        : this.redis.subscribe(channel));
    } catch (cause) {
      this.channels.delete(channel);
      throw this.commandFailure(this.options.sharded === true ? 'SSUBSCRIBE' : 'SUBSCRIBE', cause);
    }
  }

  /**
   * Unsubscribes `channel`. Its handler keeps receiving until Redis confirms,
   * so a message published just before the UNSUBSCRIBE is not lost.
   */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.has(channel) || this.closed) return;
    // Disconnected: nothing to tell Redis, and the reconnect will not resubscribe it.
    if (this.ready) {
      const confirmed =
        this.options.sharded === true
          ? this.redis.sunsubscribe(channel)
          : this.redis.unsubscribe(channel);
      await settledWithin(confirmed, CONFIRM_TIMEOUT_MS);
    }
    this.channels.delete(channel);
  }

  /** Subscribes a glob pattern (PSUBSCRIBE); the handler receives the matching channel. */
  async psubscribe(pattern: string, handler: MessageHandler): Promise<void> {
    this.assertOpen();
    this.patterns.set(pattern, handler);
    try {
      await this.redis.psubscribe(pattern);
    } catch (cause) {
      this.patterns.delete(pattern);
      throw this.commandFailure('PSUBSCRIBE', cause);
    }
  }

  async punsubscribe(pattern: string): Promise<void> {
    if (!this.patterns.has(pattern) || this.closed) return;
    if (this.ready) await settledWithin(this.redis.punsubscribe(pattern), CONFIRM_TIMEOUT_MS);
    this.patterns.delete(pattern);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.liveness.stop();
    clearTimeout(this.retryTimer);
    this.channels.clear();
    this.patterns.clear();
    if (this.redis.status === 'ready') await settledWithin(this.redis.quit(), CONFIRM_TIMEOUT_MS);
    this.redis.disconnect();
  }

  /** Forces a reconnect (and resubscribe), e.g. when a probe found the mailbox deaf. */
  reconnect(): void {
    if (!this.closed) this.redis.disconnect(true);
  }

  private ping(): void {
    const connection = this.connectionNumber;
    this.pingOutstanding = true;
    this.redis.ping().then(
      () => {
        if (connection === this.connectionNumber) this.pingOutstanding = false;
      },
      () => undefined,
    );
  }

  private async resubscribeAll(): Promise<void> {
    const connection = this.connectionNumber;
    this.resubscribing = true;
    try {
      if (this.channels.size > 0) {
        const channels = [...this.channels.keys()];
        // Channels of one SSUBSCRIBE must share a slot: one command each.
        await (this.options.sharded === true
          ? Promise.all(channels.map((channel) => this.redis.ssubscribe(channel)))
          : this.redis.subscribe(...channels));
      }
      if (this.patterns.size > 0) await this.redis.psubscribe(...this.patterns.keys());
      if (connection !== this.connectionNumber || this.closed) return;
      this.ready = true;
      this.resubscribeFailureReported = false;
      this.emit('ready');
    } catch (cause) {
      if (this.closed || connection !== this.connectionNumber) return;
      if (!this.resubscribeFailureReported) {
        this.resubscribeFailureReported = true;
        this.emit('resubscribe-failed', this.commandFailure('resubscribe', cause));
      }
      // The cause (an ACL, a server at its limits) may be fixed: keep trying.
      this.retryTimer = setTimeout(() => {
        if (connection === this.connectionNumber) void this.resubscribeAll();
      }, this.options.maxReconnectDelayMs);
    } finally {
      if (connection === this.connectionNumber) this.resubscribing = false;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ShuttingDownError('the subscriber connection');
  }

  private commandFailure(what: string, cause: unknown): ConnectionError | PermissionError {
    const message = (cause as Error).message;
    if (typeof message === 'string' && message.startsWith('NOPERM')) {
      return new PermissionError(what, this.options.endpoint.username ?? 'default', message, {
        cause,
      });
    }
    return new ConnectionError(this.options.displayUrl, `${what} failed: ${message}`, { cause });
  }
}

function toIoredisOptions(options: SubscriberConnectionOptions): RedisOptions {
  const { endpoint } = options;
  const common: RedisOptions = {
    lazyConnect: true,
    autoResubscribe: false,
    // The INFO round trip of the ready check only matters while Redis loads a dump;
    // the private broker never has one, and a loading server refuses SUBSCRIBE anyway.
    enableReadyCheck: false,
    maxRetriesPerRequest: null,
    connectionName: options.clientName,
    // No CLIENT SETINFO (Redis 7.2+): a namespace ACL user need not be granted it.
    disableClientInfo: true,
    connectTimeout: options.connectTimeoutMs,
    username: endpoint.username,
    password: endpoint.password,
    retryStrategy: (attempt: number) =>
      Math.min(50 * 2 ** (attempt - 1), options.maxReconnectDelayMs),
  };
  if (endpoint.kind === 'unix') return { ...common, path: endpoint.path };
  return {
    ...common,
    host: endpoint.host,
    port: endpoint.port,
    ...(endpoint.tls ? { tls: { ...serverNameFor(endpoint.host), ...options.tls } } : {}),
  };
}
