/**
 * Pattern subscriptions on a cluster. Classic publishes (redis-ipc, a raw
 * PUBLISH) reach every node: one classic PSUBSCRIBE on a master sees them.
 * Over sharded channels Redis has no pattern subscription:
 * every `pollMs` each master is asked which of its sharded channels match
 * (PUBSUB SHARDCHANNELS), and those are SSUBSCRIBEd on connections of the
 * follower's own. So it sees what reaches channels that have a subscriber
 * besides itself, from within a poll of their first subscription; a publish
 * to a channel nobody else listens on is not seen (nobody received it).
 *
 * Its own subscriptions count as receivers while it holds them: a channel
 * whose only subscriber is the follower is given up at the next poll, so for
 * up to `pollMs` a publish to an actor that just stopped counts one receiver.
 */
import { type RespValue } from '../resp.js';
import { SubscriberConnection } from '../subscriber-connection.js';
import type { MessageHandler } from '../transport.js';
import { type NodeConnectionOptions, connectionOptions } from './cluster-node.js';
import type { ClusterNodeAddress } from './slot-map.js';
import { slotOf } from './slot.js';

export interface ShardedPatternParts {
  nodeOptions: NodeConnectionOptions;
  /** The masters now. */
  masters(): readonly ClusterNodeAddress[];
  ownerOf(slot: number): ClusterNodeAddress | undefined;
  /** A command on the transport's own connection to that master. */
  commandOn(address: ClusterNodeAddress, args: string[]): Promise<RespValue>;
  onListenerError(error: unknown, channel: string): void;
}

/** How often the masters are asked for matching channels. */
const POLL_MS = 1000;
/** Most channels followed at once. */
const MAX_FOLLOWED = 10_000;

export class ClusterPatterns {
  private readonly patterns = new Map<string, MessageHandler>();
  private classic: SubscriberConnection | undefined;
  /** Followed channel → the master whose follower connection holds it. */
  private readonly followed = new Map<string, string>();
  private readonly connections = new Map<string, SubscriberConnection>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly parts: ShardedPatternParts) {}

  get count(): number {
    return this.patterns.size;
  }

  /** Subscribes `pattern` (classic) and follows its sharded channels; resolves after the first poll. */
  async add(pattern: string, handler: MessageHandler): Promise<void> {
    this.patterns.set(pattern, handler);
    try {
      await this.classicConnection().psubscribe(pattern, handler);
    } catch (error) {
      this.patterns.delete(pattern);
      throw error;
    }
    this.timer ??= setInterval(() => {
      void this.poll();
    }, POLL_MS).unref();
    await this.poll();
  }

  async remove(pattern: string): Promise<void> {
    if (!this.patterns.delete(pattern)) return;
    await this.classic?.punsubscribe(pattern);
    if (this.patterns.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.closeFollowers();
  }

  reconnect(): void {
    this.classic?.reconnect();
    for (const connection of this.connections.values()) connection.reconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([this.classic?.close(), this.closeFollowers()]);
  }

  private classicConnection(): SubscriberConnection {
    if (this.classic !== undefined) return this.classic;
    const [first] = this.parts.masters();
    if (first === undefined) throw new Error('no master known to subscribe a pattern on');
    const classic = new SubscriberConnection(
      connectionOptions(this.parts.nodeOptions, first, 'psub'),
    );
    classic.on('listener-error', (error: unknown, channel: string) => {
      this.parts.onListenerError(error, channel);
    });
    this.classic = classic;
    void classic.connect().catch(() => undefined);
    return classic;
  }

  private poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch(() => undefined)
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.closed || this.patterns.size === 0) return;
    const listed = await Promise.all(
      this.parts.masters().map(async (master) => {
        const channels: string[] = [];
        for (const pattern of this.patterns.keys()) {
          const reply = await this.parts.commandOn(master, ['PUBSUB', 'SHARDCHANNELS', pattern]);
          if (Array.isArray(reply)) for (const channel of reply) channels.push(String(channel));
        }
        return { master, channels };
      }),
    );
    // Channels followed already come first: a flood of new ones cannot push them out.
    const found = new Map<string, ClusterNodeAddress>();
    const fresh: [string, ClusterNodeAddress][] = [];
    let listedCount = 0;
    for (const { master, channels } of listed) {
      listedCount += channels.length;
      for (const channel of channels) {
        if (this.followed.get(channel) === master.key) found.set(channel, master);
        else fresh.push([channel, master]);
      }
    }
    for (const [channel, master] of fresh) {
      if (found.size >= MAX_FOLLOWED) break;
      found.set(channel, master);
    }
    if (found.size < listedCount) {
      // Anyone may subscribe channels of the namespace: a million must not cost a million subscriptions.
      this.parts.onListenerError(
        new Error(
          `more than ${MAX_FOLLOWED} sharded channels match; the monitor follows ${MAX_FOLLOWED}`,
        ),
        '(monitor)',
      );
    }
    await Promise.all([...found].map(([channel, master]) => this.follow(channel, master)));
    await this.dropLonely(found);
  }

  private async follow(channel: string, master: ClusterNodeAddress): Promise<void> {
    if (this.followed.get(channel) === master.key) return;
    const handler = this.handlerFor(channel);
    if (handler === undefined) return;
    const previous = this.followed.get(channel);
    this.followed.set(channel, master.key);
    await this.connectionTo(master).subscribe(channel, handler);
    if (previous !== undefined) await this.connections.get(previous)?.unsubscribe(channel);
  }

  /** Gives up channels nobody else subscribes now, or that moved off their master. */
  private async dropLonely(found: Map<string, ClusterNodeAddress>): Promise<void> {
    const drops: Promise<void>[] = [];
    for (const [channel, key] of this.followed) {
      const owner = this.parts.ownerOf(slotOf(channel));
      const stillThere = found.get(channel)?.key === key && owner?.key === key;
      const counted = stillThere
        ? await this.parts.commandOn(owner, ['PUBSUB', 'SHARDNUMSUB', channel])
        : undefined;
      const subscribers = Array.isArray(counted) ? Number(counted[1]) : 0;
      if (stillThere && subscribers > 1) continue;
      this.followed.delete(channel);
      const connection = this.connections.get(key);
      if (connection !== undefined) drops.push(connection.unsubscribe(channel));
    }
    await Promise.all(drops);
  }

  private handlerFor(channel: string): MessageHandler | undefined {
    for (const [pattern, handler] of this.patterns) {
      if (globMatches(pattern, channel)) return handler;
    }
    return undefined;
  }

  private connectionTo(master: ClusterNodeAddress): SubscriberConnection {
    let connection = this.connections.get(master.key);
    if (connection !== undefined) return connection;
    connection = new SubscriberConnection({
      ...connectionOptions(this.parts.nodeOptions, master, 'follow'),
      sharded: true,
    });
    connection.on('listener-error', (error: unknown, channel: string) => {
      this.parts.onListenerError(error, channel);
    });
    this.connections.set(master.key, connection);
    void connection.connect().catch(() => {
      this.connections.delete(master.key);
    });
    return connection;
  }

  private async closeFollowers(): Promise<void> {
    const connections = [...this.connections.values()];
    this.connections.clear();
    this.followed.clear();
    await Promise.all(connections.map((connection) => connection.close()));
  }
}

/**
 * Redis's glob for `*` and `?` (the patterns the framework subscribes); any
 * other character matches itself. Redis already matched it: this only picks
 * which of several patterns' handlers gets the channel.
 */
function globMatches(pattern: string, text: string): boolean {
  const source = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 's').test(text);
}
