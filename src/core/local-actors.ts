/**
 * The actors this process hosts: spawning them (address, name claim,
 * subscriptions, onStart, presence), finding them, and taking them out of
 * service; and the runtime each hosted actor is given.
 */
import os from 'node:os';
import { InvalidOptionError } from '../errors.js';
import type { ClaimState, Presence, PresenceEntry } from '../registry/index.js';
import type { Transport } from '../transport/index.js';
import { type Logger, settledWithin } from '../util/index.js';
import {
  type Codec,
  type Names,
  type RequestEnvelope,
  assertValidName,
  localActorAddress,
} from '../wire/index.js';
import type { ActorDefinition, Handlers } from './actor.js';
import type { ActorRef } from './actor-ref.js';
import type { AskClient } from './ask-client.js';
import type { Diagnostics } from './diagnostics.js';
import type { Dispatcher } from './dispatcher.js';
import { DurableMailboxes } from './durable-mailboxes.js';
import { assertOnceKey, onceKey, runOnce } from '../durable/index.js';

/** How long `ctx.once` remembers a result by default (a day). */
const ONCE_TTL_MS = 86_400_000;
import { type ActorRuntime, HostedActor } from './hosted-actor.js';
import {
  type MailboxOptions,
  type ResolvedMailboxOptions,
  resolveMailboxOptions,
} from './options.js';
import type { Outbox } from './outbox.js';
import type { Tracing } from './tracing.js';
import type { ActorStats } from './stats.js';

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

export interface LocalActorsParts {
  /** The process address: the main actor lives there, others below it. */
  address: string;
  transport: Transport;
  names: Names;
  codec: Codec;
  presence: Presence;
  dispatcher: Dispatcher;
  outbox: Outbox;
  asks: AskClient;
  diagnostics: Diagnostics;
  mailboxDefaults: ResolvedMailboxOptions;
  maxMessageBytes: number;
  /** How often durable mailboxes look for consumers that are gone. */
  scanIntervalMs: number;
  stopTimeoutMs: number;
  logger: Logger;
  /** True once the system stops: waiting messages are refused instead of handled. */
  isDraining(): boolean;
  /** Who holds the claim on a name now (its owner only while its process is live). */
  claimOf(name: string): Promise<ClaimState>;
  /** Spans of handler runs (tracing.ts); undefined without tracing. */
  tracing?: Tracing | undefined;
}

export class LocalActors {
  readonly runtime: ActorRuntime;
  private readonly actors = new Map<string, HostedActor>();
  private mainActor: HostedActor | undefined;
  private unnamed = 0;
  private readonly durable: DurableMailboxes;

  constructor(private readonly parts: LocalActorsParts) {
    const { codec, outbox, diagnostics, asks, dispatcher } = parts;
    this.durable = new DurableMailboxes({
      transport: parts.transport,
      names: parts.names,
      presence: parts.presence,
      dispatcher,
      diagnostics,
      maxMessageBytes: parts.maxMessageBytes,
      scanIntervalMs: parts.scanIntervalMs,
      claimOf: (name) => parts.claimOf(name),
    });
    this.runtime = {
      tracing: parts.tracing,
      isDraining: () => parts.isDraining(),
      decodeBody: (envelope: RequestEnvelope) => codec.body(envelope),
      reply: (ask, from, body) => {
        outbox.reply(ask, from, body);
      },
      replyError: (ask, from, error, origin) => {
        outbox.replyError(ask, from, error, origin);
      },
      drop: (kind, reason, message) => {
        diagnostics.drop(kind, reason, message);
      },
      logOnce: (reason, message) => {
        diagnostics.logOnce(reason, message);
      },
      senderFor: (address) => asks.senderFor(address),
      once: async (address, scope, key, fn, options) => {
        assertOnceKey(key);
        const ttlMs = options?.ttlMs ?? ONCE_TTL_MS;
        if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
          throw new InvalidOptionError('once ttlMs', `must be a positive integer, got ${ttlMs}`);
        }
        const { transport, names, presence } = parts;
        return await runOnce(
          {
            transport,
            key: onceKey(names, scope, key),
            token: presence.tokenOf(address),
            ttlMs,
            isLive: (token) => presence.isLive(token),
          },
          key,
          fn,
        );
      },
      expired: (envelope, where) => dispatcher.expired(envelope, where),
      refuseStopping: (envelope, actor) => {
        dispatcher.refuseStopping(envelope, actor);
      },
    };
  }

  /** The actor at the process address, if one was spawned. */
  get main(): HostedActor | undefined {
    return this.mainActor;
  }

  all(): HostedActor[] {
    return [...this.actors.values()];
  }

  stats(): ActorStats[] {
    return this.all().map((actor) => actor.stats());
  }

  /** The actor of this process at `target` (address, name or ref); InvalidOptionError if none. */
  find(target: string | ActorRef<unknown>): HostedActor {
    const key = typeof target === 'string' ? target : target.address;
    const actor = this.actors.get(key) ?? this.all().find((each) => each.name === key);
    if (actor === undefined) {
      throw new InvalidOptionError('actor', `no actor "${key}" lives in ${this.parts.address}`);
    }
    return actor;
  }

  /**
   * Starts an actor and subscribes its mailbox; resolves with its address.
   * The first lives at the process address, later ones at
   * `<process address>/<name>` (or `/actor-<n>` without a name).
   */
  async spawn<H extends Handlers>(
    definition: ActorDefinition<H>,
    options: SpawnOptions,
  ): Promise<string> {
    if (typeof definition !== 'object' || typeof definition.handlers !== 'object') {
      throw new InvalidOptionError(
        'actor definition',
        'expected { handlers: { <type>: (body, ctx) => reply } }',
      );
    }
    const { name } = options;
    if (name !== undefined) assertValidName('actor name', name);
    const isMain = this.mainActor === undefined;
    const address = isMain
      ? this.parts.address
      : localActorAddress(this.parts.address, name ?? `actor-${++this.unnamed}`);
    if (this.actors.has(address)) {
      throw new InvalidOptionError(
        'actor name',
        `an actor already lives at ${address} in this process`,
      );
    }
    const { presence, transport, names } = this.parts;
    const mailbox = resolveMailboxOptions(
      { ...definition.mailbox, ...options.mailbox },
      this.parts.mailboxDefaults,
    );
    if (mailbox.durable && name === undefined) {
      throw new InvalidOptionError(
        'mailbox.durable',
        'a durable mailbox belongs to a name: spawn(actor, { name, mailbox: { durable: true } })',
      );
    }
    if (name !== undefined) {
      await this.durable.assertNameFits(name, mailbox);
      // Pool members share the name; anyone else owns it alone.
      if (!mailbox.pool) await presence.claim(name, address);
    }
    const actor = new HostedActor(address, name, definition, mailbox, this.runtime);
    this.actors.set(address, actor);
    const onPayload = (payload: Buffer, channel: string): void => {
      this.parts.dispatcher.receive(payload, actor, channel);
    };
    try {
      if (isMain) this.mainActor = actor;
      else await transport.subscribe(names.channel(address), onPayload);
      if (name !== undefined && mailbox.durable) await this.durable.open(actor, name, mailbox);
      else if (name !== undefined) await transport.subscribe(names.channel(name), onPayload);
      await definition.onStart?.(actor.lifecycleContext);
      await this.durable.start(address);
      await presence.announce([this.presenceOf(actor)]);
    } catch (error) {
      await this.durable.stopReading(address);
      await this.durable.close(address).catch(() => undefined);
      await this.unsubscribe(actor);
      await presence.retire([{ address, name }]).catch(() => undefined);
      this.actors.delete(address);
      if (isMain) this.mainActor = undefined;
      throw error;
    }
    return address;
  }

  /** Takes actors out of service: no new messages, the current ones finish, onStop runs. */
  async retire(actors: readonly HostedActor[]): Promise<void> {
    const { presence, transport, stopTimeoutMs, logger } = this.parts;
    for (const actor of actors) actor.retiring = true;
    const leaving = presence.retire(actors.map(({ address, name }) => ({ address, name })));
    // Bounded, and not awaited without Redis (it would wait for a reconnect that may
    // never come): what is left is retried every presence interval, and goes with the
    // process's address claim anyway.
    if (transport.state.connected) await settledWithin(leaving, 1000);
    else leaving.catch(() => undefined);
    await Promise.all(
      actors.map((actor) =>
        Promise.all([this.unsubscribe(actor), this.durable.stopReading(actor.address)]),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(actors.map((actor) => actor.mailbox.idle())),
      new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    // What a durable consumer still holds goes to the other members (or the next start).
    await Promise.all(actors.map((actor) => this.durable.close(actor.address)));
    for (const actor of actors) {
      // Ends the mailbox's waiting drain loops (a stuck handler keeps its own until it returns).
      actor.mailbox.close();
      try {
        await actor.definition.onStop?.(actor.lifecycleContext);
      } catch (error) {
        logger.error(`${actor.address}: onStop failed: ${String(error)}`);
      }
      this.actors.delete(actor.address);
      this.parts.asks.forget(actor.address);
      if (this.mainActor === actor) this.mainActor = undefined;
    }
  }

  private presenceOf(actor: HostedActor): PresenceEntry {
    return {
      name: actor.name,
      address: actor.address,
      host: os.hostname(),
      pid: process.pid,
      startedAt: actor.startedAt,
      ...(actor.isPoolMember ? { pool: true as const } : {}),
    };
  }

  private async unsubscribe(actor: HostedActor): Promise<void> {
    const { names, transport } = this.parts;
    const channels: string[] = [];
    if (actor.address !== this.parts.address) channels.push(names.channel(actor.address));
    if (actor.name !== undefined && !actor.isDurable) channels.push(names.channel(actor.name));
    await Promise.all(channels.map((channel) => transport.unsubscribe(channel)));
  }
}
