/**
 * The actor system: one per process as a rule. A thin front over the
 * collaborators that do the work, each owning its state: the Outbox (the way
 * out), the AskClient (tells, asks and their settlement), the Dispatcher (the
 * way in), LocalActors (the actors hosted here), Presence (registry entries
 * and names), ConnectionHealth (outages and probes) and Diagnostics (what was
 * dropped, and why). See docs/ARCHITECTURE.md.
 */
import { EventEmitter } from 'node:events';
import { InvalidOptionError, ShuttingDownError } from '../errors.js';
import {
  type MonitorEvent,
  type MonitorHandle,
  type MonitorOptions,
  monitorNamespace,
} from '../monitor/index.js';
import type { Registry } from '../registry/index.js';
import { Topic, type TopicOptions } from '../topics/index.js';
import {
  type CommandArgument,
  type RespValue,
  type Transport,
  type Unsubscribe,
  sharedConnectionRefusal,
  tuningOf,
} from '../transport/index.js';
import { DeadLetters, durableKeys } from '../durable/index.js';
import { SharedValues } from '../values/index.js';
import { settledWithin } from '../util/index.js';
import { assertValidName } from '../wire/index.js';
import type { ActorDefinition, AskOptions, Handlers, MessageSender } from './actor.js';
import { ActorRef } from './actor-ref.js';
import { type SystemIdentity, type SystemParts, assembleSystem } from './assemble.js';
import type { ActorSystemEvents } from './events.js';
import { type HealthReport, healthReport } from './health.js';
import type { SpawnOptions } from './local-actors.js';
import {
  type ActorSystemOptions,
  type ResolvedActorSystemOptions,
  resolveActorSystemOptions,
} from './options.js';
import type { SystemStats } from './stats.js';
import type { ProcessReport, ReportSources } from './process-report.js';
import { prometheusText } from './prometheus-text.js';
import { openSystemConnection } from './system-connection.js';
import { type Tracing, loadTracing } from './tracing.js';

export type { SpawnOptions } from './local-actors.js';

type SystemState = SystemStats['state'];

/** What the layers above reach of a system beyond its public API. */
interface SystemInternals {
  reportSources: ReportSources;
  transport: Transport;
  names: SystemParts['names'];
}

const internals = new WeakMap<ActorSystem, SystemInternals>();

function internalsOf(system: ActorSystem): SystemInternals {
  const found = internals.get(system);
  if (found === undefined) throw new Error('not an ActorSystem');
  return found;
}

/** What `system`'s process report gathers from outside the core (supervisors, runActor). */
export function reportSourcesOf(system: ActorSystem): ReportSources {
  return internalsOf(system).reportSources;
}

/**
 * Calls `onPayload` for every payload published on a topic of the namespace
 * (a pattern subscription to `<ns>:topic:*`: it counts as a receiver of
 * topics, never of mailboxes). For the dashboard's topic view.
 */
export async function watchTopics(
  system: ActorSystem,
  onPayload: (topic: string, payload: Buffer) => void,
): Promise<Unsubscribe> {
  const { transport, names } = internalsOf(system);
  const prefix = names.key('topic', '');
  const pattern = `${prefix}*`;
  await transport.psubscribe(pattern, (payload, channel) => {
    onPayload(channel.slice(prefix.length), payload);
  });
  return () => transport.punsubscribe(pattern);
}

/**
 * Events (typed, see {@link ActorSystemEvents}): `connection-lost`,
 * `connection-restored`, `mailbox-lost`.
 */
export class ActorSystem
  extends EventEmitter<ActorSystemEvents>
  implements MessageSender, AsyncDisposable
{
  /** This process's mailbox address, `<hostname>-<pid>`; replies to its asks arrive here. */
  readonly address: string;
  readonly namespace: string;
  readonly options: ResolvedActorSystemOptions;
  /** Live actors of this namespace, across all processes. */
  readonly registry: Registry;
  private stateValue: SystemState = 'running';
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** The collaborators (see assemble.ts), each owning its state. */
  private readonly parts: SystemParts;

  private constructor(
    options: ResolvedActorSystemOptions,
    private readonly transport: Transport,
    identity: SystemIdentity,
    tracing: Tracing | undefined,
  ) {
    super();
    this.options = options;
    this.address = identity.address;
    this.namespace = options.namespace;
    this.parts = assembleSystem(options, transport, identity, {
      events: this,
      state: () => this.stateValue,
      stats: () => this.stats(),
      startedAt: this.startedAt,
      tracing,
    });
    this.registry = this.parts.registry;
    internals.set(this, {
      reportSources: this.parts.reportSources,
      transport,
      names: this.parts.names,
    });
  }

  /**
   * Connects to Redis and subscribes the process mailbox; resolves once Redis
   * confirmed the subscription. Rejects with ConnectionError (naming the URL)
   * when Redis cannot be reached, or BrokerNotFoundError when no URL is known.
   */
  static async start(options?: ActorSystemOptions): Promise<ActorSystem> {
    const resolved = resolveActorSystemOptions(options);
    // Imported while connecting; asked for explicitly, its absence fails before connecting.
    const tracing = loadTracing(resolved.tracing, resolved.logger);
    if (resolved.tracing === true) await tracing;
    const { transport, identity } = await openSystemConnection(resolved);
    const system = new ActorSystem(resolved, transport, identity, await tracing);
    const { names, dispatcher, actors, presence } = system.parts;
    try {
      await transport.subscribe(names.channel(identity.address), (payload, channel) => {
        dispatcher.receive(payload, actors.main, channel);
      });
      presence.keepAlive();
    } catch (error) {
      await presence.releaseAddress().catch(() => undefined);
      await transport.close();
      throw error;
    }
    return system;
  }

  get state(): SystemState {
    return this.stateValue;
  }

  /**
   * Starts an actor in this process and subscribes its mailbox. The first actor
   * spawned lives at the process address; later ones at
   * `<process address>/<name>` (or `/actor-<n>` without a name). A name is
   * claimed for this actor alone: NameTakenError when a live actor owns it.
   */
  async spawn<H extends Handlers>(
    definition: ActorDefinition<H>,
    options: SpawnOptions = {},
  ): Promise<ActorRef<ActorDefinition<H>>> {
    this.assertRunning();
    return new ActorRef(this, await this.parts.actors.spawn(definition, options));
  }

  /** A handle on an actor by address or name, typed by its definition when given. */
  ref<D = ActorDefinition>(to: string): ActorRef<D> {
    return new ActorRef<D>(this, to);
  }

  /**
   * One-way message. Resolves once Redis delivered it to a subscriber; rejects
   * with NoRecipientError when nobody listens on `to`. Un-awaited failures are
   * counted (`dropped.deadLetter`), never unhandled rejections.
   */
  tell(to: string, type: string, body?: unknown): Promise<void> {
    return this.parts.asks.tell(this.address, to, type, body, false);
  }

  /**
   * Request/reply: resolves with the reply body; rejects with AskTimeoutError,
   * NoRecipientError (fails fast when nobody listens), RemoteError (the handler
   * threw), ConnectionError or ShuttingDownError.
   */
  ask<Reply = unknown>(
    to: string,
    type: string,
    body?: unknown,
    options?: AskOptions,
  ): Promise<Reply> {
    return this.parts.asks.ask<Reply>(this.address, to, type, body, options, false);
  }

  /**
   * A topic: a broadcast channel of plain JSON values (`<namespace>:topic:<name>`),
   * open to any Redis client (with a namespace secret: signed, unless `unsigned`).
   */
  topic<T = unknown>(name: string, options: TopicOptions = {}): Topic<T> {
    const { names, channelListeners, auth } = this.parts;
    return new Topic<T>(name, names.topicChannel(name), this.transport, channelListeners, {
      // Topics are never claim-checked: beyond this size a PUBLISH could cut off subscribers.
      maxMessageBytes: Math.min(this.options.claimCheckBytes, this.options.maxMessageBytes),
      maxNestingDepth: this.options.maxNestingDepth,
      auth,
      unsigned: options.unsigned === true,
    });
  }

  /**
   * Shared values of a group: named values in the hash
   * `<namespace>:values:<group>`, stored as JSON any Redis client can read,
   * written atomically several at a time, watched without polling.
   */
  values<Schema extends object = Record<string, unknown>>(group: string): SharedValues<Schema> {
    assertValidName('values group', group);
    const key = this.parts.names.key('values', group);
    return new SharedValues<Schema>(group, key, key, {
      transport: this.transport,
      listeners: this.parts.channelListeners,
      maxWriteBytes: this.options.maxMessageBytes,
      maxNestingDepth: this.options.maxNestingDepth,
      onReconnect: (listener) => this.parts.connection.onRestored(listener),
      assertRunning: () => {
        this.assertRunning();
      },
      logOnce: (reason, message) => {
        this.parts.diagnostics.logOnce(reason, message);
      },
    });
  }

  /**
   * The dead letters of the durable mailbox `name` (`<ns>:dead:{<name>}`):
   * messages that failed `maxDeliveries` times, to list, put back or drop.
   */
  deadLetters(name: string): DeadLetters {
    assertValidName('actor name', name);
    return new DeadLetters(this.transport, durableKeys(this.parts.names, name));
  }

  /**
   * A Redis key of this namespace, `<namespace>:<kind>:<part>:…`, for data an
   * application keeps next to its actors (histories, inboxes, …).
   */
  key(kind: string, ...parts: string[]): string {
    // ':' inside a part would make keys ambiguous: key('a', 'b:c') = key('a:b', 'c').
    for (const part of [kind, ...parts]) assertValidName('key part', part);
    return this.parts.names.key(kind, ...parts);
  }

  /**
   * Runs one Redis command on this system's connection, pipelined with its
   * other traffic. Blocking commands (BLPOP, XREAD BLOCK, …), transactions
   * (MULTI, WATCH) and subscriptions would stall or interleave with that
   * traffic and are refused with InvalidOptionError: use a Lua script (EVAL)
   * for atomic multi-step updates, and a connection of your own for blocking reads.
   */
  command(args: readonly CommandArgument[]): Promise<RespValue> {
    this.assertRunning();
    const refusal = sharedConnectionRefusal(args);
    if (refusal !== undefined) return Promise.reject(new InvalidOptionError('command', refusal));
    return this.transport.command(args);
  }

  /**
   * Calls `onEvent` for every payload published on any channel of the
   * namespace (PUBLISH or SPUBLISH, by anyone) and appended to any of its
   * durable mailboxes (XADD). Watches with Redis MONITOR on a connection of
   * its own, which changes nothing for senders but costs the server (it
   * copies every command it runs to the monitor); when the server refuses
   * MONITOR, with a pattern subscription (`PSUBSCRIBE <ns>:*`), which counts
   * as a receiver of every channel: while it runs, an ask to an address
   * nobody serves waits for its timeout instead of failing with
   * NoRecipientError. The handle says which (`mode`); call it to stop.
   * A MONITOR connection also closes within a second of `stop()`.
   */
  monitor(
    onEvent: (event: MonitorEvent) => void,
    options?: MonitorOptions,
  ): Promise<MonitorHandle> {
    this.assertRunning();
    const { names, codec, auth } = this.parts;
    const { url, tls, logger, claimCheckBytes, maxMessageBytes } = this.options;
    return monitorNamespace(
      {
        transport: this.transport,
        names,
        codec,
        auth,
        url,
        tls,
        tuning: tuningOf(this.options),
        clientName: `${this.namespace}:${this.address}:monitor`,
        logger,
        // Escaped, a byte takes up to 4 (\xHH); the slack is the command, channel and client.
        defaultMaxLineBytes: 4 * Math.min(claimCheckBytes, maxMessageBytes) + 64 * 1024,
        isRunning: () => this.stateValue === 'running',
      },
      onEvent,
      options,
    );
  }

  /**
   * This process's metrics in the Prometheus text format (serve them with
   * `Content-Type: text/plain; version=0.0.4`): messages sent and received by
   * kind, dropped by reason, ask durations, mailbox depth by actor name,
   * children's restarts, connection losses. `redis-actors dashboard` serves
   * the same, summed over the namespace, at `/metrics`.
   */
  metrics(): string {
    return prometheusText([this.parts.report()]);
  }

  /** What a `$report` ask to this process answers (the dashboard asks it once a second). */
  report(): ProcessReport {
    return this.parts.report();
  }

  /** Counters and connection state; cheap enough to poll. */
  stats(): SystemStats {
    return {
      address: this.address,
      namespace: this.namespace,
      state: this.stateValue,
      connected: this.transport.state.connected,
      subscribed: this.parts.connection.subscribed,
      connectionLosses: this.parts.connection.connectionLosses,
      pendingAsks: this.parts.asks.size,
      sent: this.parts.outbox.sent,
      received: this.parts.diagnostics.received,
      ...this.parts.diagnostics.counters(),
      actors: this.parts.actors.stats(),
    };
  }

  /**
   * What a `health` ask to an actor of this system answers: the actor's mailbox
   * figures with the system's connection state and counters. Without an actor
   * (by address, name or ref), for the main actor, or the process alone.
   */
  health(actor?: string | ActorRef<unknown>): HealthReport {
    const hosted = actor === undefined ? this.parts.actors.main : this.parts.actors.find(actor);
    return healthReport(this.stats(), hosted?.stats(), this.startedAt);
  }

  /**
   * Stops one actor of this system (by address, name or ref): it leaves the
   * registry and gives up its name, its mailbox is unsubscribed, the message in
   * progress finishes (up to `stopTimeoutMs`), waiting asks get
   * ShuttingDownError, onStop runs.
   */
  async stopActor(target: string | ActorRef<unknown>): Promise<void> {
    await this.parts.actors.retire([this.parts.actors.find(target)]);
  }

  /**
   * Stops the system: no new messages are taken; messages being handled finish
   * (up to `stopTimeoutMs`), waiting ones are refused (asks get
   * ShuttingDownError); pending asks reject with ShuttingDownError; mailboxes
   * are unsubscribed and connections closed. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /** `await using system = await ActorSystem.start()` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private async stopNow(): Promise<void> {
    this.stateValue = 'stopping';
    this.parts.presence.stop();
    this.parts.connection.stop();
    await this.parts.actors.retire(this.parts.actors.all());
    this.parts.outbox.rejectWaiting(() => new ShuttingDownError());
    this.parts.asks.rejectAll(() => new ShuttingDownError());
    await this.transport.unsubscribe(this.parts.names.channel(this.address));
    if (this.transport.state.connected) {
      await settledWithin(this.parts.presence.releaseAddress(), 1000);
    }
    await this.transport.close();
    this.stateValue = 'stopped';
  }

  private assertRunning(): void {
    if (this.stateValue !== 'running') throw new ShuttingDownError();
  }
}
