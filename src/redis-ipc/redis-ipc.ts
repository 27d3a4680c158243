/**
 * A redis-ipc component: command queues (client and server), settings and
 * status hashes, event and debug channels, wire-compatible with the C library
 * and the Python module. One instance per component and thread.
 */
import { InvalidOptionError, ShuttingDownError } from '../errors.js';
import type { Logger } from '../internal.js';
import { createStderrLogger } from '../internal.js';
import { RateLimitedLog } from '../internal.js';
import { DEFAULTS, resolveRedisUrl } from '../internal.js';
import { ChannelListeners, type Unsubscribe } from '../internal.js';
import type { TlsOptions } from '../internal.js';
import {
  type ConnectionTuning,
  DEFAULT_CONNECTION_TUNING,
  definedTuning,
  type Transport,
  connectTransport,
  isClusterUrl,
  redactUrl,
  tlsFromEnvironment,
} from '../internal.js';
import { type CommandHandler, CommandServer, type ServeCommandsOptions } from './command-server.js';
import { type IpcIdentity, stamped } from './common-fields.js';
import { IpcHash, type ReadonlyIpcHash } from './ipc-hash.js';
import { type IpcMessage, excerpt, parseIpcMessage } from './ipc-message.js';
import {
  assertIpcName,
  commandQueue,
  debugChannel,
  debugPattern,
  eventChannel,
  eventPatterns,
  parseEventChannel,
  resultsQueue,
  settingsKey,
  statusKey,
} from './names.js';
import { ResultsReader } from './results-reader.js';
import { redisIpcSocketPath } from './socket-path.js';

/** redis-ipc debug levels: lower is more important. */
export const DebugLevel = {
  ERROR: 0,
  ALERT: 1,
  WARN: 2,
  INFO: 3,
  NOISY: 4,
  EXTRA_NOISY: 5,
} as const;

/**
 * Options of {@link RedisIpc.connect}; the connection settings
 * (`connectTimeoutMs`, `healthCheckTimeoutMs`, …) are those of an actor system,
 * with the same defaults.
 */
export interface RedisIpcOptions extends Partial<ConnectionTuning> {
  /** This component's name, e.g. `printer`. */
  component: string;
  /**
   * The thread name: results come back on `queues.results.<component>.<thread>`.
   * Two clients with the same component and thread would take each other's results.
   * @default 'main'
   */
  thread?: string;
  /**
   * Redis URL (`unix:///tmp/redis-ipc/socket`, `redis://…`).
   * @default redis-ipc's socket when `ripc` is set; else REDIS_URL, else the private broker
   */
  url?: string;
  /**
   * Connect to redis-ipc's server: `RIPC_SERVER_PATH`, else
   * `$RIPC_RUNTIME_DIR/redis-ipc/socket` (RIPC_RUNTIME_DIR defaults to /tmp).
   * @default false
   */
  ripc?: boolean;
  /** TLS settings for `rediss://` URLs. */
  tls?: TlsOptions;
  /**
   * Debug messages with a level above this are not sent (redis-ipc's verbosity).
   * @default 5 (DebugLevel.EXTRA_NOISY: everything)
   */
  debugVerbosity?: number;
  /**
   * Timeout of {@link RedisIpc.sendCommand} without its own.
   * @default 5000
   */
  commandTimeoutMs?: number;
  /** @default a stderr logger, level from REDIS_ACTORS_LOG */
  logger?: Logger;
}

/** Options of {@link RedisIpc.sendCommand}. */
export interface SendCommandOptions {
  /** A subqueue of the component: `queues.commands.<component>.<subqueue>`. */
  subqueue?: string;
  /** @default the connection's commandTimeoutMs (5000) */
  timeoutMs?: number;
}

/** Where an event came from. */
export interface EventOrigin {
  /** The Redis channel, e.g. `channel.events.printer.warnings`. */
  channel: string;
  component: string;
  subchannel: string | undefined;
}

/** A debug message as received. */
export interface DebugMessage extends IpcMessage {
  message: string;
  level: number;
}

/** Counters of a RedisIpc connection. */
export interface RedisIpcStats {
  commandsSent: number;
  /** Results taken that no command waited for (timed out, or another client's). */
  resultsDiscarded: number;
  /**
   * Events and debug messages received that were refused: not JSON objects,
   * nested too deep, or with an own `__proto__`, `constructor` or `prototype` key.
   */
  invalidReceived: number;
  /** Event and debug callbacks that threw (the message was lost to that callback). */
  listenerErrors: number;
  /** Debug messages not sent because their level was above the verbosity. */
  debugSuppressed: number;
}

let instances = 0;

export class RedisIpc {
  readonly component: string;
  readonly thread: string;
  /** The URL connected to (password hidden). */
  readonly url: string;
  private readonly identity: IpcIdentity;
  private readonly patterns: ChannelListeners;
  private readonly results: ResultsReader;
  private readonly servers = new Set<CommandServer>();
  private readonly logOnce: RateLimitedLog;
  private readonly debugVerbosity: number;
  private readonly commandTimeoutMs: number;
  private readonly processTag: string;
  private commandCounter = 0;
  private closed: Promise<void> | undefined;
  private readonly counts = {
    commandsSent: 0,
    invalidReceived: 0,
    debugSuppressed: 0,
    listenerErrors: 0,
  };

  private constructor(
    private readonly transport: Transport,
    options: RedisIpcOptions & { thread: string },
    logger: Logger,
  ) {
    this.component = options.component;
    this.thread = options.thread;
    this.url = transport.displayUrl;
    this.identity = { component: options.component, thread: options.thread, tid: process.pid };
    this.patterns = new ChannelListeners(transport, 'pattern');
    this.logOnce = new RateLimitedLog(logger);
    transport.on('listener-error', (error: unknown, channel: string) => {
      this.counts.listenerErrors++;
      this.logOnce.warn(
        'listener-threw',
        `redis-ipc ${this.component}: a callback for ${channel} threw: ${String(error)}`,
      );
    });
    this.debugVerbosity = options.debugVerbosity ?? DebugLevel.EXTRA_NOISY;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULTS.askTimeoutMs;
    // A second connection in one process gets its own ids: <pid>.2, as addresses do.
    const instance = ++instances;
    this.processTag = instance === 1 ? String(process.pid) : `${process.pid}.${instance}`;
    this.results = new ResultsReader(
      resultsQueue(options.component, options.thread),
      () => transport.openDedicated(`results`),
      (reason, message) => {
        this.logOnce.warn(reason, `redis-ipc ${this.component}: ${message}`);
      },
    );
  }

  /**
   * Connects as component `component`. Rejects with ConnectionError when Redis
   * cannot be reached, BrokerNotFoundError when no URL is known.
   */
  static async connect(options: RedisIpcOptions): Promise<RedisIpc> {
    assertIpcName('component', options.component);
    const thread = options.thread ?? 'main';
    assertIpcName('thread', thread);
    const url =
      options.url ??
      (options.ripc === true ? `unix://${redisIpcSocketPath()}` : resolveRedisUrl(undefined));
    if (isClusterUrl(url)) {
      // Its peers (redis-ipc in Python and C) speak classic pub/sub, which the cluster transport does not.
      throw new InvalidOptionError(
        'url',
        `redis-ipc does not run on a Redis Cluster (${redactUrl(url)}); give it the URL of one node ` +
          `(redis://host:port) or of a standalone Redis`,
      );
    }
    const transport = await connectTransport({
      ...DEFAULT_CONNECTION_TUNING,
      ...definedTuning(options),
      url,
      clientName: `ripc:${options.component}:${thread}:${process.pid}`,
      tls: options.tls ?? tlsFromEnvironment(),
    });
    return new RedisIpc(transport, { ...options, thread }, options.logger ?? createStderrLogger());
  }

  // ------------------------------------------------------------ commands

  /**
   * Sends a command to `component` (RPUSH on `queues.commands.<component>[.<subqueue>]`,
   * with `results_queue`, `command_id` and the common fields added) and
   * resolves with its result. Rejects with CommandTimeoutError after `timeoutMs`.
   */
  async sendCommand<Result extends IpcMessage = IpcMessage>(
    component: string,
    command: IpcMessage,
    options: SendCommandOptions = {},
  ): Promise<Result> {
    this.assertOpen();
    const queue = commandQueue(component, options.subqueue);
    // The C library's form: <component>-<thread>-<tid>-<counter>.
    const commandId = `${this.component}-${this.thread}-${this.processTag}-${this.commandCounter++}`;
    const text = JSON.stringify(
      stamped(
        { ...command, results_queue: this.results.queue, command_id: commandId },
        this.identity,
      ),
    );
    const result = this.results.wait(commandId, queue, options.timeoutMs ?? this.commandTimeoutMs);
    this.counts.commandsSent++;
    this.transport.command(['RPUSH', queue, text]).catch((error: unknown) => {
      this.results.cancel(commandId, error as Error);
    });
    return (await result) as Result;
  }

  /**
   * Serves this component's command queue (and subqueues): each command is
   * given to `handler`, and what it returns goes back as the result.
   */
  async serveCommands(
    handler: CommandHandler,
    options: ServeCommandsOptions = {},
  ): Promise<CommandServer> {
    this.assertOpen();
    const server = await CommandServer.start(
      {
        identity: this.identity,
        openConnection: (name) => this.transport.openDedicated(name),
        push: async (queue, text) => {
          await this.transport.command(['RPUSH', queue, text]);
        },
        logOnce: (reason, message) => {
          this.logOnce.warn(reason, `redis-ipc ${this.component}: ${message}`);
        },
      },
      handler,
      options,
    );
    this.servers.add(server);
    return server;
  }

  // ------------------------------------------------------ settings, status

  /** The settings hash of `component` (this one by default): `settings.<component>`. */
  settings(component: string = this.component): IpcHash {
    return new IpcHash(this.transport, settingsKey(component));
  }

  /** This component's status hash, `status.<component>`, to write. */
  status(): IpcHash;
  /** Another component's status hash, to read: each component writes its own. */
  status(component: string): ReadonlyIpcHash;
  status(component: string = this.component): IpcHash | ReadonlyIpcHash {
    return new IpcHash(this.transport, statusKey(component));
  }

  // ------------------------------------------------------- events, debug

  /**
   * Publishes `event` on `channel.events.<component>[.<subchannel>]`, with the
   * `channel` and common fields added; resolves with how many listeners got it.
   */
  publishEvent(event: IpcMessage, options: { subchannel?: string } = {}): Promise<number> {
    return this.publishOn(eventChannel(this.component, options.subchannel), event);
  }

  /**
   * Listens to events: of one component, of one subchannel across components,
   * of both, or all (`{}`). The callback gets the event (a JSON object, common
   * fields included) and where it came from.
   */
  async subscribeEvents(
    filter: { component?: string; subchannel?: string },
    callback: (event: IpcMessage, origin: EventOrigin) => void,
  ): Promise<Unsubscribe> {
    this.assertOpen();
    const unsubscribes = await Promise.all(
      eventPatterns(filter.component, filter.subchannel).map((pattern) =>
        this.patterns.add(pattern, (payload, channel) => {
          const event = this.received(payload, channel);
          const origin = parseEventChannel(channel);
          if (event !== undefined && origin !== undefined) callback(event, { channel, ...origin });
        }),
      ),
    );
    return async () => {
      await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
    };
  }

  /**
   * Sends a debug message on `channel.debug.<component>` unless `level` is
   * above the verbosity; resolves with whether it was sent.
   */
  async debug(message: string, level: number = DebugLevel.INFO): Promise<boolean> {
    if (level > this.debugVerbosity) {
      this.counts.debugSuppressed++;
      return false;
    }
    await this.publishOn(debugChannel(this.component), { message, level });
    return true;
  }

  /** Listens to debug messages of one component, or of all. */
  async subscribeDebug(
    filter: { component?: string },
    callback: (message: DebugMessage, channel: string) => void,
  ): Promise<Unsubscribe> {
    this.assertOpen();
    return this.patterns.add(debugPattern(filter.component), (payload, channel) => {
      const message = this.received(payload, channel);
      if (message !== undefined) callback(message as DebugMessage, channel);
    });
  }

  // ------------------------------------------------------------ lifecycle

  stats(): RedisIpcStats {
    return { ...this.counts, resultsDiscarded: this.results.discarded };
  }

  /**
   * Stops serving (commands being handled finish), rejects commands still
   * waiting for results with ShuttingDownError, and disconnects. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.all([...this.servers].map((server) => server.stop()));
      await this.results.close(() => new ShuttingDownError(`redis-ipc ${this.component}`));
      await this.transport.close();
    })();
    return this.closed;
  }

  private async publishOn(channel: string, fields: IpcMessage): Promise<number> {
    this.assertOpen();
    // As the C library: the fields, `channel`, then the common fields.
    const text = JSON.stringify(stamped({ ...fields, channel }, this.identity));
    const receivers = await this.transport.command(['PUBLISH', channel, text]);
    return typeof receivers === 'number' ? receivers : 0;
  }

  /** A received event or debug message, or undefined (counted, logged once) when not an object. */
  private received(payload: Buffer, channel: string): IpcMessage | undefined {
    const parsed = parseIpcMessage(payload);
    if ('message' in parsed) return parsed.message;
    this.counts.invalidReceived++;
    this.logOnce.warn(
      'invalid-message',
      `redis-ipc ${this.component}: dropped a message on ${channel}: ${parsed.problem}: ${excerpt(payload)}`,
    );
    return undefined;
  }

  private assertOpen(): void {
    if (this.closed !== undefined) throw new ShuttingDownError(`redis-ipc ${this.component}`);
  }
}
