/**
 * The durable mailboxes of this system's actors: declaring one when its actor
 * spawns, the consumer that feeds the actor, and taking it out of service.
 * Also the checks that keep a name either durable or not: a name with a
 * durable mailbox is never subscribed by a plain actor (pub/sub would take
 * its messages past the stream), and a pool never joins a name a plain
 * actor owns.
 */
import { DurableInbox, declareDurable, durableKeys } from '../durable/index.js';
import { InvalidOptionError, NameTakenError } from '../errors.js';
import type { ClaimState, Presence } from '../registry/index.js';
import type { Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import type { Diagnostics } from './diagnostics.js';
import type { Dispatcher } from './dispatcher.js';
import type { HostedActor } from './hosted-actor.js';
import type { ResolvedMailboxOptions } from './options.js';

/** Dead letters kept per mailbox; older ones go first (anyone may fill them). */
const DEAD_LETTER_CAPACITY = 10_000;
/** What an entry may hold beyond the largest message: field names, the signature. */
const ENTRY_OVERHEAD_BYTES = 4096;

export interface DurableMailboxesParts {
  transport: Transport;
  names: Names;
  presence: Presence;
  dispatcher: Dispatcher;
  diagnostics: Diagnostics;
  maxMessageBytes: number;
  scanIntervalMs: number;
  /** Who holds the claim on a name now. */
  claimOf(name: string): Promise<ClaimState>;
}

export class DurableMailboxes {
  /** Actor address → the consumer feeding it. */
  private readonly inboxes = new Map<string, DurableInbox>();

  constructor(private readonly parts: DurableMailboxesParts) {}

  /**
   * Before a named actor spawns: a plain one may not take a name that has a
   * durable mailbox; a pool member may not join a name a live plain actor owns.
   */
  async assertNameFits(name: string, mailbox: ResolvedMailboxOptions): Promise<void> {
    const { transport, names } = this.parts;
    if (!mailbox.durable) {
      const keys = durableKeys(names, name);
      if ((await transport.command(['EXISTS', keys.config])) === 1) {
        throw new InvalidOptionError(
          'mailbox.durable',
          `"${name}" has a durable mailbox (${keys.stream}): spawn it with mailbox: { durable: true }, ` +
            `or delete ${keys.config} and ${keys.stream} to make it a plain name again`,
        );
      }
      return;
    }
    if (!mailbox.pool) return;
    // An owner only while its process is live (claimOf checks it).
    const { owner } = await this.parts.claimOf(name);
    if (owner !== undefined) throw new NameTakenError(name);
  }

  /** Declares the durable mailbox of `name` and prepares the consumer of `actor` (not reading yet). */
  async open(actor: HostedActor, name: string, mailbox: ResolvedMailboxOptions): Promise<void> {
    const { transport, names, presence, dispatcher, diagnostics } = this.parts;
    const keys = durableKeys(names, name);
    const declare = (): Promise<void> =>
      declareDurable(transport, keys, name, {
        capacity: mailbox.capacity,
        overflow: mailbox.overflow,
        maxDeliveries: mailbox.maxDeliveries,
        pool: mailbox.pool,
      });
    await declare();
    const channel = names.channel(name);
    const inbox = new DurableInbox({
      transport,
      keys,
      group: name,
      consumer: presence.tokenOf(actor.address),
      releasedConsumer: presence.tokenOf('released'),
      concurrency: mailbox.concurrency,
      maxDeliveries: mailbox.maxDeliveries,
      claimAfterMs: mailbox.claimAfterMs,
      retryDelayMs: mailbox.retryDelayMs,
      maxEntryBytes: this.parts.maxMessageBytes + ENTRY_OVERHEAD_BYTES,
      deadLetterCapacity: DEAD_LETTER_CAPACITY,
      scanIntervalMs: this.parts.scanIntervalMs,
      isLive: (consumer) => presence.isLive(consumer),
      deliver: (payload, delivery) => {
        dispatcher.receiveDurable(payload, actor, name, channel, delivery);
      },
      redeclare: declare,
      logOnce: (reason, message) => {
        diagnostics.logOnce(reason, message);
      },
    });
    this.inboxes.set(actor.address, inbox);
  }

  /** Starts feeding the actor at `address` (after its onStart). */
  async start(address: string): Promise<void> {
    await this.inboxes.get(address)?.start();
  }

  /** Stops taking entries for the actor at `address`; those being handled go on. */
  async stopReading(address: string): Promise<void> {
    await this.inboxes.get(address)?.stopReading();
  }

  /** After its handlers finished (or stopTimeoutMs): hands on what it still holds, leaves the group. */
  async close(address: string): Promise<void> {
    const inbox = this.inboxes.get(address);
    if (inbox === undefined) return;
    this.inboxes.delete(address);
    await inbox.close();
  }
}
