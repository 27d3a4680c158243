/**
 * The actor system: one per process as a rule. It owns the transport (one
 * publishing and one subscribing connection), the process mailbox
 * `<hostname>-<pid>` (which also receives every reply to this process's asks),
 * the actors hosted here, and the asks waiting for replies.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { nanoid } from 'nanoid';
import type { ActorDefinition, AskOptions, Handlers, MessageSender } from './actor.js';
import { ActorRef } from './actor-ref.js';
import { Names, assertValidName, localActorAddress, processAddress } from '../wire/address.js';
import { ArrivalOrder } from './arrival-order.js';
import { ClaimCheck } from '../wire/claim-check.js';
import { Codec, Refusal, combineEnvelopeTexts } from '../wire/codec.js';
import { MessageIds, RecentIds, type Sighting } from '../wire/dedupe.js';
import type { Envelope } from '../wire/envelope.js';
import { PROTOCOL_VERSION } from '../wire/envelope.js';
import {
  AskTimeoutError,
  InvalidMessageError,
  InvalidOptionError,
  MailboxFullError,
  MailboxLostError,
  MessageTooLargeError,
  NameTakenError,
  NoRecipientError,
  ShuttingDownError,
} from '../errors.js';
import { HEALTH_TYPE, type HealthReport } from './health.js';
import type { ActorRuntime } from './hosted-actor.js';
import { HostedActor } from './hosted-actor.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import { Outbox } from './outbox.js';
import { MailboxProbe, PROBE_TYPE } from './mailbox-probe.js';
import type { ActorSystemOptions, MailboxOptions, ResolvedActorSystemOptions } from './options.js';
import { resolveActorSystemOptions, resolveMailboxOptions } from './options.js';
import { PendingAsks } from './pending-asks.js';
import type { ActorInfo } from '../registry/registry.js';
import { Registry } from '../registry/registry.js';
import { settledWithin } from '../util/settled-within.js';
import { SharedValues } from '../values/shared-values.js';
import type { DropCounts, SystemStats } from './stats.js';
import { emptyDropCounts } from './stats.js';
import type { MonitorEvent } from '../monitor/monitor.js';
import { monitorNamespace } from '../monitor/monitor.js';
import { ChannelListeners, type Unsubscribe } from '../transport/channel-listeners.js';
import { Topic } from '../topics/topic.js';
import type { CommandArgument, RespValue } from '../transport/transport.js';
import { Transport } from '../transport/transport.js';
import { fromWireError, toWireError } from '../wire/wire-errors.js';

/** Options of {@link ActorSystem.spawn}. */
export interface SpawnOptions {
  /**
   * A name the actor is also reachable by (`ask('clock', 'time')`), in addition
   * to its address. It also names the address of a non-main actor.
   */
  name?: string;
  /** Overrides the definition's and the system's mailbox settings. */
  mailbox?: MailboxOptions;
}

type SystemState = SystemStats['state'];

let systemsCreated = 0;

const ignore = (): void => undefined;

/** Commands that block the connection or change its state for the commands after them. */
const UNSAFE_ON_SHARED_CONNECTION = new Set([
  'BLPOP',
  'BRPOP',
  'BLMOVE',
  'BRPOPLPUSH',
  'BLMPOP',
  'BZPOPMIN',
  'BZPOPMAX',
  'BZMPOP',
  'WAIT',
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'UNWATCH',
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'MONITOR',
  'SELECT',
  'QUIT',
  'RESET',
  'CLIENT',
  'AUTH',
  'HELLO',
]);

/** Consecutive failed probes after which the mailbox is reported lost. */
const PROBE_FAILURES_BEFORE_LOSS = 3;

/**
 * Events:
 * - `connection-lost` (ConnectionError): Redis went away (or stopped answering);
 *   once per outage. Reconnecting starts at once.
 * - `connection-restored`: both connections are back and the mailbox was proven
 *   live by a probe through Redis.
 * - `mailbox-lost` (MailboxLostError): the mailbox could not be resubscribed
 *   (refused, e.g. NOPERM) or probes keep getting lost; once per outage.
 *   Resubscribing goes on; `connection-restored` follows if it succeeds.
 */
export class ActorSystem extends EventEmitter implements MessageSender {
  /** This process's mailbox address, `<hostname>-<pid>`; replies to its asks arrive here. */
  readonly address: string;
  readonly namespace: string;
  readonly options: ResolvedActorSystemOptions;
  /** Live actors of this namespace, across all processes. */
  readonly registry: Registry;
  private readonly names: Names;
  private readonly codec: Codec;
  private readonly pending = new PendingAsks();
  private readonly recentIds: RecentIds;
  private readonly ids = new MessageIds(nanoid(12));
  private readonly actors = new Map<string, HostedActor>();
  private readonly drops: DropCounts = emptyDropCounts();
  private readonly invalidByReason: Record<string, number> = {};
  private readonly logOncePerReason: RateLimitedLog;
  private readonly runtime: ActorRuntime;
  private mainActor: HostedActor | undefined;
  private stateValue: SystemState = 'running';
  private stopping: Promise<void> | undefined;
  private received = 0;
  private localActorCount = 0;
  private presenceTimer: NodeJS.Timeout | undefined;
  private readonly channelListeners: ChannelListeners;
  private readonly claimCheck: ClaimCheck;
  private readonly outbox: Outbox;
  private readonly arrivals = new ArrivalOrder();
  private readonly probe: MailboxProbe;
  private readonly startedAt = Date.now();
  /** False from a lost connection until a probe came back through the mailbox. */
  private mailboxVerified = true;
  private inOutage = false;
  private mailboxLossReported = false;
  private connectionLosses = 0;

  private constructor(
    options: ResolvedActorSystemOptions,
    private readonly transport: Transport,
    address: string,
  ) {
    super();
    this.options = options;
    this.address = address;
    this.namespace = options.namespace;
    this.names = new Names(options.namespace);
    this.codec = new Codec({
      maxMessageBytes: options.maxMessageBytes,
      maxNestingDepth: options.maxNestingDepth,
    });
    this.recentIds = new RecentIds({
      windowMs: options.dedupeWindowMs,
      maxEntries: options.dedupeMaxEntries,
      maxClockSkewMs: options.maxClockSkewMs,
    });
    this.logOncePerReason = new RateLimitedLog(options.logger);
    this.runtime = this.createRuntime();
    this.registry = new Registry(transport, this.names, options.presenceTtlMs);
    this.channelListeners = new ChannelListeners(transport);
    this.claimCheck = new ClaimCheck(transport, this.names, {
      thresholdBytes: options.claimCheckBytes,
      ttlMs: options.claimCheckTtlMs,
    });
    this.outbox = new Outbox(transport, this.codec, this.claimCheck, options.maxWriteBufferBytes);
    this.probe = new MailboxProbe({
      timeoutMs: options.probeTimeoutMs,
      newId: () => this.ids.next(),
      publish: (id, callback) => {
        this.publishProbe(id, callback);
      },
      onLive: (roundTripMs) => {
        this.mailboxVerified = true;
        this.mailboxLossReported = false;
        if (!this.inOutage) return;
        this.inOutage = false;
        options.logger.info(
          `${this.address}: connection to Redis restored, mailbox proven live (probe ${roundTripMs} ms)`,
        );
        this.emit('connection-restored');
      },
      onDeaf: (failures, detail) => {
        this.mailboxVerified = false;
        // Without a publishing connection the probe proves nothing; it reruns on 'up'.
        if (!transport.state.connected || this.stateValue !== 'running') return;
        if (failures >= PROBE_FAILURES_BEFORE_LOSS) this.reportMailboxLost(detail);
        transport.reconnectSubscriber();
      },
    });
    transport.on('down', (error: Error) => {
      this.mailboxVerified = false;
      if (this.inOutage) return;
      this.inOutage = true;
      this.connectionLosses++;
      options.logger.warn(`${this.address}: ${error.message}`);
      this.emit('connection-lost', error);
    });
    transport.on('up', () => {
      if (this.stateValue === 'running') this.probe.run();
    });
    transport.on('listener-error', (error: unknown, channel: string) => {
      this.refuse(
        new Refusal('listener-threw', `a listener on ${channel} threw: ${String(error)}`),
      );
    });
    transport.on('resubscribe-failed', (error: Error) => {
      this.mailboxVerified = false;
      this.reportMailboxLost(error.message, error);
    });
  }

  private reportMailboxLost(detail: string, cause?: Error): void {
    if (this.mailboxLossReported) return;
    this.mailboxLossReported = true;
    const error = new MailboxLostError(this.address, detail, { cause });
    this.options.logger.error(`${this.address}: ${error.message}`);
    this.emit('mailbox-lost', error);
  }

  /**
   * Connects to Redis and subscribes the process mailbox; resolves once Redis
   * confirmed the subscription. Rejects with ConnectionError (naming the URL)
   * when Redis cannot be reached, or BrokerNotFoundError when no URL is known.
   */
  static async start(options?: ActorSystemOptions): Promise<ActorSystem> {
    const resolved = resolveActorSystemOptions(options);
    const address = processAddress(++systemsCreated);
    const transport = await Transport.connect({
      url: resolved.url,
      clientName: `${resolved.namespace}:${address}`,
      tls: resolved.tls,
      combinePublishes: combineEnvelopeTexts,
      connectTimeoutMs: resolved.connectTimeoutMs,
      maxOfflineCommands: resolved.maxOfflineCommands,
      maxReconnectDelayMs: resolved.maxReconnectDelayMs,
      healthCheckIntervalMs: resolved.healthCheckIntervalMs,
      healthCheckTimeoutMs: resolved.healthCheckTimeoutMs,
    });
    const system = new ActorSystem(resolved, transport, address);
    try {
      await transport.subscribe(system.names.channel(address), (payload) => {
        system.receive(payload, system.mainActor);
      });
    } catch (error) {
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
   * `<process address>/<name>` (or `/actor-<n>` without a name).
   */
  async spawn<H extends Handlers>(
    definition: ActorDefinition<H>,
    options: SpawnOptions = {},
  ): Promise<ActorRef<ActorDefinition<H>>> {
    this.assertRunning();
    if (typeof definition !== 'object' || typeof definition.handlers !== 'object') {
      throw new InvalidOptionError(
        'actor definition',
        'expected { handlers: { <type>: (body, ctx) => reply } }',
      );
    }
    const { name } = options;
    if (name !== undefined) {
      assertValidName('actor name', name);
      if (await this.isLive(name)) throw new NameTakenError(name);
    }
    const isMain = this.mainActor === undefined;
    const address = isMain
      ? this.address
      : localActorAddress(this.address, name ?? `actor-${++this.localActorCount}`);
    if (this.actors.has(address)) {
      throw new InvalidOptionError(
        'actor name',
        `an actor already lives at ${address} in this process`,
      );
    }
    const mailbox = resolveMailboxOptions(
      { ...definition.mailbox, ...options.mailbox },
      this.options.mailbox,
    );
    const actor = new HostedActor(address, name, definition, mailbox, this.runtime);
    this.actors.set(address, actor);
    const onPayload = (payload: Buffer): void => {
      this.receive(payload, actor);
    };
    try {
      if (isMain) this.mainActor = actor;
      else await this.transport.subscribe(this.names.channel(address), onPayload);
      if (name !== undefined) await this.transport.subscribe(this.names.channel(name), onPayload);
      await definition.onStart?.(actor.lifecycleContext);
      await this.registry.announce([this.presenceOf(actor)]);
      this.presenceTimer ??= setInterval(() => {
        this.refreshPresence();
      }, this.options.presenceIntervalMs).unref();
    } catch (error) {
      await this.unsubscribeActor(actor);
      this.actors.delete(address);
      if (isMain) this.mainActor = undefined;
      throw error;
    }
    return new ActorRef(this, address);
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
    return this.tellFrom(this.address, to, type, body, false);
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
    return this.askFrom<Reply>(this.address, to, type, body, options, false);
  }

  /**
   * A topic: a broadcast channel of plain JSON values (`<namespace>:topic:<name>`),
   * open to any Redis client.
   */
  topic<T = unknown>(name: string): Topic<T> {
    return new Topic<T>(
      name,
      this.names.topicChannel(name),
      this.transport,
      this.channelListeners,
      // Topics are never claim-checked: beyond this size a PUBLISH could cut off subscribers.
      Math.min(this.options.claimCheckBytes, this.options.maxMessageBytes),
      this.options.maxNestingDepth,
    );
  }

  /**
   * Shared values of a group: named values in the hash
   * `<namespace>:values:<group>`, stored as JSON any Redis client can read,
   * written atomically several at a time, watched without polling.
   */
  values<Schema extends object = Record<string, unknown>>(group: string): SharedValues<Schema> {
    assertValidName('values group', group);
    const key = this.names.key('values', group);
    return new SharedValues<Schema>(group, key, key, {
      transport: this.transport,
      listeners: this.channelListeners,
      maxWriteBytes: this.options.maxMessageBytes,
      maxNestingDepth: this.options.maxNestingDepth,
      events: this,
      assertRunning: () => {
        this.assertRunning();
      },
      logOnce: (reason, message) => {
        this.logOncePerReason.warn(reason, `${this.address}: ${message}`);
      },
    });
  }

  /**
   * A Redis key of this namespace, `<namespace>:<kind>:<part>:…`, for data an
   * application keeps next to its actors (histories, inboxes, …).
   */
  key(kind: string, ...parts: string[]): string {
    // ':' inside a part would make keys ambiguous: key('a', 'b:c') = key('a:b', 'c').
    for (const part of [kind, ...parts]) assertValidName('key part', part);
    return this.names.key(kind, ...parts);
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
    const name = String(args[0] ?? '').toUpperCase();
    const blocks = args.some((arg) => typeof arg === 'string' && arg.toUpperCase() === 'BLOCK');
    if (
      UNSAFE_ON_SHARED_CONNECTION.has(name) ||
      (blocks && (name === 'XREAD' || name === 'XREADGROUP'))
    ) {
      return Promise.reject(
        new InvalidOptionError(
          'command',
          `${name} cannot run on the shared connection (it blocks, or holds connection state); ` +
            `use EVAL for atomic updates or a Redis client of your own`,
        ),
      );
    }
    return this.transport.command(args);
  }

  /** Calls `onEvent` for every payload published on any channel of the namespace. */
  monitor(onEvent: (event: MonitorEvent) => void): Promise<Unsubscribe> {
    this.assertRunning();
    return monitorNamespace(this.transport, this.names, this.codec, onEvent);
  }

  /** Counters and connection state; cheap enough to poll. */
  stats(): SystemStats {
    const state = this.transport.state;
    return {
      address: this.address,
      namespace: this.namespace,
      state: this.stateValue,
      connected: state.connected,
      subscribed: state.subscribed && this.mailboxVerified,
      connectionLosses: this.connectionLosses,
      pendingAsks: this.pending.size,
      sent: this.outbox.sent,
      received: this.received,
      dropped: { ...this.drops },
      invalidByReason: { ...this.invalidByReason },
      actors: [...this.actors.values()].map((actor) => actor.stats()),
    };
  }

  /**
   * What a `health` ask to an actor of this system answers: the actor's mailbox
   * figures with the system's connection state and counters. Without an actor
   * (by address, name or ref), for the main actor, or the process alone.
   */
  health(actor?: string | ActorRef<unknown>): HealthReport {
    const hosted = actor === undefined ? this.mainActor : this.findActor(actor);
    return this.healthOf(hosted);
  }

  private healthOf(actor: HostedActor | undefined): HealthReport {
    const stats = this.stats();
    const own = actor?.stats();
    const memory = process.memoryUsage();
    return {
      address: actor?.address ?? this.address,
      name: actor?.name,
      system: this.address,
      host: os.hostname(),
      pid: process.pid,
      state: stats.state,
      connected: stats.connected,
      subscribed: stats.subscribed,
      connectionLosses: stats.connectionLosses,
      pendingAsks: stats.pendingAsks,
      mailboxDepth: own?.mailboxDepth ?? 0,
      mailboxCapacity: own?.mailboxCapacity ?? 0,
      processing: own?.processing ?? 0,
      handled: own?.handled ?? 0,
      failed: own?.failed ?? 0,
      dropped: stats.dropped,
      invalidByReason: stats.invalidByReason,
      uptimeMs: Date.now() - this.startedAt,
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
    };
  }

  private findActor(target: string | ActorRef<unknown>): HostedActor {
    const key = typeof target === 'string' ? target : target.address;
    const actor =
      this.actors.get(key) ?? [...this.actors.values()].find((each) => each.name === key);
    if (actor === undefined)
      throw new InvalidOptionError('actor', `no actor "${key}" lives in ${this.address}`);
    return actor;
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

  /**
   * Stops one actor of this system (by address, name or ref): it leaves the
   * registry, its mailbox is unsubscribed, the message in progress finishes
   * (up to `stopTimeoutMs`), waiting asks get ShuttingDownError, onStop runs.
   */
  async stopActor(target: string | ActorRef<unknown>): Promise<void> {
    await this.retire([this.findActor(target)]);
  }

  private async stopNow(): Promise<void> {
    this.stateValue = 'stopping';
    clearInterval(this.presenceTimer);
    this.probe.cancel();
    await this.retire([...this.actors.values()]);
    this.outbox.rejectWaiting(() => new ShuttingDownError());
    this.pending.rejectAll(() => new ShuttingDownError());
    await this.transport.unsubscribe(this.names.channel(this.address));
    await this.transport.close();
    this.stateValue = 'stopped';
  }

  /** Takes actors out of service: no new messages, the current ones finish, onStop runs. */
  private async retire(actors: HostedActor[]): Promise<void> {
    for (const actor of actors) actor.retiring = true;
    // Skipped or bounded without Redis: it would wait for a reconnect that may never come,
    // and presence expires on its own anyway.
    if (this.transport.state.connected) {
      await settledWithin(this.registry.withdraw(actors.map((actor) => actor.address)), 1000);
    }
    await Promise.all(actors.map((actor) => this.unsubscribeActor(actor)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(actors.map((actor) => actor.mailbox.idle())),
      new Promise((resolve) => (timer = setTimeout(resolve, this.options.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    for (const actor of actors) {
      // Ends the mailbox's waiting drain loops (a stuck handler keeps its own until it returns).
      actor.mailbox.close();
      try {
        await actor.definition.onStop?.(actor.lifecycleContext);
      } catch (error) {
        this.options.logger.error(`${actor.address}: onStop failed: ${String(error)}`);
      }
      this.actors.delete(actor.address);
      if (this.mainActor === actor) this.mainActor = undefined;
    }
  }

  /** Whether some process subscribes the channel of `address` (an address or a name). */
  private async isLive(address: string): Promise<boolean> {
    const reply = await this.transport.command(['PUBSUB', 'NUMSUB', this.names.channel(address)]);
    return Array.isArray(reply) && Number(reply[1]) > 0;
  }

  private presenceOf(actor: HostedActor): Omit<ActorInfo, 'lastHeartbeat'> {
    return {
      name: actor.name,
      address: actor.address,
      host: os.hostname(),
      pid: process.pid,
      startedAt: actor.startedAt,
    };
  }

  private refreshPresence(): void {
    // An actor being stopped was withdrawn already; announcing it again would revive it for a TTL.
    const actors = [...this.actors.values()]
      .filter((actor) => !actor.retiring)
      .map((actor) => this.presenceOf(actor));
    this.registry.announce(actors).catch((error: unknown) => {
      this.logOncePerReason.warn(
        'presence',
        `${this.address}: presence not refreshed: ${String(error)}`,
      );
    });
  }

  private async unsubscribeActor(actor: HostedActor): Promise<void> {
    const channels: string[] = [];
    if (actor.address !== this.address) channels.push(this.names.channel(actor.address));
    if (actor.name !== undefined) channels.push(this.names.channel(actor.name));
    await Promise.all(channels.map((channel) => this.transport.unsubscribe(channel)));
  }

  private assertRunning(): void {
    if (this.stateValue !== 'running') throw new ShuttingDownError();
  }

  // ---------------------------------------------------------------- receiving

  /** Every payload from every mailbox of this system comes through here. */
  private receive(payload: Buffer, target: HostedActor | undefined): void {
    if (this.arrivals.busy) {
      this.arrivals.hold(() => {
        this.receiveInOrder(payload, target);
      });
      return;
    }
    this.receiveInOrder(payload, target);
  }

  private receiveInOrder(payload: Buffer, target: HostedActor | undefined): void {
    const decoded = this.codec.decodeAll(payload);
    const now = Date.now();
    if (Array.isArray(decoded)) {
      for (const each of decoded) {
        // A claimed message in a batch holds back the rest of it, as it holds later arrivals.
        if (this.arrivals.busy) {
          this.arrivals.hold(() => {
            this.accept(each, target, Date.now());
          });
        } else {
          this.accept(each, target, now);
        }
      }
    } else {
      this.accept(decoded, target, now);
    }
  }

  /** One decoded envelope (or refusal) of a payload. */
  private accept(decoded: Envelope | Refusal, target: HostedActor | undefined, now: number): void {
    this.received++;
    if (decoded instanceof Refusal) {
      this.refuse(decoded);
      return;
    }
    if (decoded.type === PROBE_TYPE && decoded.from === this.address) {
      this.probe.arrived(decoded.id);
      return;
    }
    // Replies need no window: the pending ask is settled once, and a repeat counts as late.
    const isReply = decoded.kind === 'reply' || decoded.kind === 'error';
    if (!isReply) {
      const sighting = this.recentIds.check(decoded.id, decoded.sentAt, now);
      if (sighting !== 'first') {
        this.refuseRepeat(decoded, sighting, now);
        return;
      }
    }
    if (decoded.claim !== undefined) {
      this.receiveClaimed(decoded, decoded.claim.size, target);
      return;
    }
    this.dispatch(decoded, target);
  }

  /** A stub for a message stored under a key: fetch it (in order), then dispatch it. */
  private receiveClaimed(stub: Envelope, size: number, target: HostedActor | undefined): void {
    try {
      this.claimCheck.keyOf(stub);
    } catch (error) {
      this.refuse(new Refusal('bad-claim', (error as Error).message));
      return;
    }
    const refuseWith = (refusal: Refusal, error: Error): void => {
      this.refuse(refusal);
      if (stub.kind === 'ask') this.replyError(stub, stub.to, error, 'framework');
    };
    if (size > this.options.maxMessageBytes) {
      this.claimCheck.discard(stub);
      refuseWith(
        new Refusal(
          'oversized',
          `claimed message of ${size} bytes, limit ${this.options.maxMessageBytes}`,
        ),
        new MessageTooLargeError(size, this.options.maxMessageBytes),
      );
      return;
    }
    if (stub.kind === 'ask' && (stub.deadline as number) < Date.now()) {
      this.claimCheck.discard(stub);
      this.drop(
        'expired',
        'expired',
        `ask "${stub.type}" from ${stub.from} arrived after its deadline`,
      );
      return;
    }
    const fetched = this.claimCheck
      .fetch(stub)
      .then(
        (full) => {
          this.dispatchClaimed(stub, full, target, refuseWith);
        },
        (error: unknown) => {
          this.refuse(new Refusal('claim-fetch', `cannot fetch claimed message: ${String(error)}`));
        },
      )
      .catch((error: unknown) => {
        // Dispatch runs inside this promise chain: nothing it throws may go unhandled.
        this.refuse(new Refusal('listener-threw', `a claimed message failed: ${String(error)}`));
      });
    this.arrivals.waitFor(fetched);
  }

  private dispatchClaimed(
    stub: Envelope,
    full: Buffer | Refusal,
    target: HostedActor | undefined,
    refuseWith: (refusal: Refusal, error: Error) => void,
  ): void {
    if (full instanceof Refusal) {
      refuseWith(full, new InvalidMessageError(full.reason, `message ${stub.id}: ${full.detail}`));
      return;
    }
    // This buffer is ours alone: binary values may be views of it, not copies.
    const decoded = this.codec.decode(full, true);
    if (decoded instanceof Refusal) {
      this.refuse(decoded);
      return;
    }
    const mismatch = this.claimCheck.mismatch(stub, decoded);
    if (mismatch !== undefined) {
      this.refuse(
        new Refusal('bad-claim', `claimed message does not match its stub ${stub.id}: ${mismatch}`),
      );
      return;
    }
    this.dispatch(decoded, target);
  }

  /** Routes a valid, first-seen envelope: replies to pending asks, tells and asks to actors. */
  private dispatch(decoded: Envelope, target: HostedActor | undefined): void {
    if (decoded.kind === 'reply' || decoded.kind === 'error') {
      this.settle(decoded);
      return;
    }
    if (decoded.kind === 'ask' && (decoded.deadline as number) < Date.now()) {
      this.drop(
        'expired',
        'expired',
        `ask "${decoded.type}" from ${decoded.from} arrived after its deadline`,
      );
      return;
    }
    // Answered here, not queued: an overloaded actor's health is what one wants to see.
    if (decoded.kind === 'ask' && decoded.type === HEALTH_TYPE && !target?.handles(HEALTH_TYPE)) {
      this.reply(decoded, decoded.to, this.healthOf(target));
      return;
    }
    if (this.stateValue !== 'running') {
      if (decoded.kind === 'ask')
        this.replyError(decoded, decoded.to, new ShuttingDownError(), 'framework');
      else
        this.drop(
          'shutdown',
          'shutdown',
          `tell "${decoded.type}" dropped: ${this.address} is stopping`,
        );
      return;
    }
    if (target === undefined) {
      this.refuseNoActor(decoded);
      return;
    }
    if (target.accept(decoded)) return;
    const { capacity, overflow } = target.mailbox.options;
    this.drop(
      'mailboxFull',
      'mailbox-full',
      `mailbox of ${target.address} is full (${capacity}); overflow policy "${overflow}"`,
    );
    if (decoded.kind === 'ask' && overflow === 'reject') {
      this.replyError(
        decoded,
        target.address,
        new MailboxFullError(target.address, capacity),
        'framework',
      );
    }
  }

  /** A tell or ask dedupe did not take: a repeat, or sent at a time that makes it suspect. */
  private refuseRepeat(envelope: Envelope, sighting: Sighting, now: number): void {
    if (sighting === 'duplicate') {
      this.drop(
        'duplicate',
        'duplicate',
        `duplicate message ${envelope.id} from ${envelope.from} dropped`,
      );
      return;
    }
    const detail =
      sighting === 'out-of-order'
        ? `message ${envelope.id} from ${envelope.from} was sent before the last one seen from that sender`
        : `message ${envelope.id} from ${envelope.from} was sent ${Math.abs(now - envelope.sentAt)} ms ` +
          `${sighting === 'future' ? 'in the future' : 'ago'}, outside dedupeWindowMs ` +
          `(${this.options.dedupeWindowMs}) and maxClockSkewMs (${this.options.maxClockSkewMs}): ` +
          `a repeat could not be recognised. Check the sender's clock (NTP)`;
    this.refuse(new Refusal(sighting, detail));
  }

  private refuse(refusal: Refusal): void {
    this.drops.invalid++;
    this.invalidByReason[refusal.reason] = (this.invalidByReason[refusal.reason] ?? 0) + 1;
    this.logOncePerReason.warn(
      `invalid:${refusal.reason}`,
      `${this.address}: dropped invalid message (${refusal.reason}: ${refusal.detail})`,
    );
  }

  /** A tell or ask reached the process mailbox, which hosts no actor. */
  private refuseNoActor(envelope: Envelope): void {
    const message = `${this.address} hosts no actor; "${envelope.type}" from ${envelope.from} cannot be handled`;
    if (envelope.kind === 'ask') {
      this.replyError(
        envelope,
        this.address,
        new InvalidMessageError('no-actor', message),
        'framework',
      );
    } else {
      this.drop('unknownType', 'no-actor', message);
    }
  }

  private settle(envelope: Envelope): void {
    const id = envelope.correlationId as string;
    const ask = this.pending.get(id);
    if (ask === undefined) {
      this.drop(
        'lateReply',
        'late-reply',
        `reply ${envelope.id} from ${envelope.from} came after its ask ended`,
      );
      return;
    }
    if (envelope.kind === 'error') {
      this.pending.reject(id, fromWireError(envelope.body, envelope.from, ask.type));
      return;
    }
    let body: unknown;
    try {
      body = this.codec.body(envelope);
    } catch (error) {
      this.pending.reject(id, error as Error);
      return;
    }
    this.pending.resolve(id, body);
  }

  private drop(kind: keyof DropCounts, reason: string, message: string): void {
    this.drops[kind]++;
    this.logOncePerReason.warn(reason, `${this.address}: ${message}`);
  }

  // ------------------------------------------------------------------ sending

  private tellFrom(
    from: string,
    to: string,
    type: string,
    body: unknown,
    internal: boolean,
  ): Promise<void> {
    const told = new Promise<void>((resolve, reject) => {
      if (!this.mayStillSend(internal)) {
        reject(new ShuttingDownError());
        return;
      }
      const envelope: Envelope = {
        v: PROTOCOL_VERSION,
        id: this.ids.next(),
        kind: 'tell',
        from,
        to,
        type,
        sentAt: Date.now(),
      };
      const channel = this.names.channel(to);
      this.outbox.send(envelope, body, channel, (error, receivers) => {
        if (error !== null) {
          reject(error);
        } else if (receivers === 0) {
          this.drop('deadLetter', 'dead-letter', `tell "${type}" to ${to} reached no subscriber`);
          reject(new NoRecipientError(to, channel));
        } else {
          resolve();
        }
      });
    });
    // Callers may not await a tell: its failure is counted above, not an unhandled rejection.
    told.catch(ignore);
    return told;
  }

  private askFrom<Reply>(
    from: string,
    to: string,
    type: string,
    body: unknown,
    options: AskOptions | undefined,
    internal: boolean,
  ): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (!this.mayStillSend(internal)) {
        reject(new ShuttingDownError());
        return;
      }
      const timeoutMs = options?.timeoutMs ?? this.options.askTimeoutMs;
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
        reject(new InvalidOptionError('timeoutMs', `must be a positive integer, got ${timeoutMs}`));
        return;
      }
      const now = Date.now();
      const id = this.ids.next();
      const envelope: Envelope = {
        v: PROTOCOL_VERSION,
        id,
        kind: 'ask',
        from,
        to,
        type,
        replyTo: this.address,
        sentAt: now,
        deadline: now + timeoutMs,
      };
      const channel = this.names.channel(to);
      this.pending.add(
        id,
        to,
        type,
        timeoutMs,
        resolve as (value: unknown) => void,
        reject,
        () =>
          new AskTimeoutError(
            to,
            type,
            timeoutMs,
            this.inOutage ? 'the connection to Redis is down; reconnecting' : undefined,
          ),
      );
      this.outbox.send(
        envelope,
        body,
        channel,
        (error, receivers) => {
          if (error !== null) this.pending.reject(id, error);
          else if (receivers === 0) this.pending.reject(id, new NoRecipientError(to, channel));
        },
        undefined,
        // An ask that timed out while waiting for room in the write buffer is not sent.
        () => this.pending.get(id) !== undefined,
      );
    });
  }

  private publishProbe(
    id: string,
    callback: (error: Error | null, receivers: number) => void,
  ): void {
    const envelope: Envelope = {
      v: PROTOCOL_VERSION,
      id,
      kind: 'tell',
      from: this.address,
      to: this.address,
      type: PROBE_TYPE,
      sentAt: Date.now(),
    };
    this.outbox.send(envelope, undefined, this.names.channel(this.address), callback);
  }

  /** Handlers may still send while the system drains; outside callers may not. */
  private mayStillSend(internal: boolean): boolean {
    return this.stateValue === 'running' || (internal && this.stateValue === 'stopping');
  }

  private reply(ask: Envelope, from: string, body: unknown): void {
    const envelope = this.replyEnvelope(ask, from, 'reply');
    this.outbox.send(
      envelope,
      body,
      this.names.channel(envelope.to),
      (error, receivers) => {
        this.afterReply(envelope, error, receivers);
      },
      // The reply itself cannot be sent (too large, unserializable): tell the asker why.
      (error) => {
        this.replyError(ask, from, error, 'framework');
      },
    );
  }

  private replyError(
    ask: Envelope,
    from: string,
    error: unknown,
    origin: 'framework' | 'handler',
  ): void {
    const envelope = this.replyEnvelope(ask, from, 'error');
    const channel = this.names.channel(envelope.to);
    const afterReply = (sendError: Error | null, receivers: number): void => {
      this.afterReply(envelope, sendError, receivers);
    };
    const wire = toWireError(error, origin);
    this.outbox.send(envelope, wire, channel, afterReply, () => {
      // A huge stack or message: keep name and code, which is what callers branch on.
      const short = { ...wire, message: 'error too large to send' };
      delete short.stack;
      this.outbox.send(envelope, short, channel, afterReply);
    });
  }

  private replyEnvelope(ask: Envelope, from: string, kind: 'reply' | 'error'): Envelope {
    return {
      v: PROTOCOL_VERSION,
      id: this.ids.next(),
      kind,
      from,
      to: ask.replyTo as string,
      correlationId: ask.id,
      sentAt: Date.now(),
    };
  }

  private afterReply(envelope: Envelope, error: Error | null, receivers: number): void {
    if (error !== null) {
      this.logOncePerReason.warn(
        'reply-failed',
        `${this.address}: reply to ${envelope.to} not sent: ${error.message}`,
      );
    } else if (receivers === 0) {
      this.drop(
        'deadLetter',
        'reply-dead-letter',
        `reply to ${envelope.to} reached no subscriber (asker gone?)`,
      );
    }
  }

  private createRuntime(): ActorRuntime {
    const senders = new Map<string, MessageSender>();
    return {
      isDraining: () => this.stateValue !== 'running',
      decodeBody: (envelope) => this.codec.body(envelope),
      reply: (ask, from, body) => {
        this.reply(ask, from, body);
      },
      replyError: (ask, from, error, origin) => {
        this.replyError(ask, from, error, origin);
      },
      drop: (kind, reason, message) => {
        this.drop(kind, reason, message);
      },
      logOnce: (reason, message) => {
        this.logOncePerReason.warn(reason, `${this.address}: ${message}`);
      },
      senderFor: (address) => {
        let sender = senders.get(address);
        if (sender === undefined) {
          sender = {
            tell: (to, type, body) => this.tellFrom(address, to, type, body, true),
            ask: <Reply>(to: string, type: string, body?: unknown, options?: AskOptions) =>
              this.askFrom<Reply>(address, to, type, body, options, true),
          };
          senders.set(address, sender);
        }
        return sender;
      },
    };
  }
}
