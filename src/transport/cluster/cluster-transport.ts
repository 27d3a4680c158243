/**
 * The Redis Cluster transport: mailboxes, replies and topics on sharded
 * pub/sub (SPUBLISH/SSUBSCRIBE), so a message crosses only the shard that
 * owns its channel and a publish's receiver count is that shard's
 * subscribers: "nobody listens" means what it says. Commands go to the master
 * of their key's slot; MOVED and ASK are followed, and the slot map is read
 * again on redirects, while a node is down (failover) and periodically.
 * Subscriptions move when their slots move.
 *
 * Pattern subscriptions (the monitor) cannot be sharded: a classic
 * PSUBSCRIBE on one master sees classic PUBLISHes, and a
 * {@link ClusterPatterns} follower subscribes the matching sharded channels
 * that have subscribers.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectionError,
  InvalidOptionError,
  PermissionError,
  ShuttingDownError,
} from '../../errors.js';
import type { CommandConnection } from '../command-connection.js';
import { tuningOf } from '../connection-tuning.js';
import { redactUrl } from '../redis-url.js';
import { type CommandArgument, RedisReplyError, type RespValue } from '../resp.js';
import type {
  DedicatedConnection,
  MessageHandler,
  PublishCallback,
  ReplyCallback,
  Transport,
  TransportEvents,
  TransportOptions,
  TransportState,
} from '../transport.js';
import { ClusterNode, type NodeConnectionOptions } from './cluster-node.js';
import { nodeKey, parseClusterUrl } from './cluster-url.js';
import { joinReplies, routeOf, splitBySlot } from './command-route.js';
import { DedicatedRouter } from './dedicated-router.js';
import { type ClusterNodeAddress, redirectOf } from './slot-map.js';
import { SlotMapSource } from './slot-map-source.js';
import { ClusterPatterns } from './cluster-patterns.js';
import { slotOf, slotOfChannel } from './slot.js';

/** Redirects and retries one command may take before its error is final. */
const MAX_ATTEMPTS = 8;

interface Subscription {
  handler: MessageHandler;
  /** The node it is subscribed on, once it is. */
  node: ClusterNode | undefined;
}

export class ClusterTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly displayUrl: string;
  readonly publishCommand = 'SPUBLISH';
  private readonly nodeOptions: NodeConnectionOptions;
  private readonly slots: SlotMapSource;
  private readonly nodes = new Map<string, ClusterNode>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly patterns: ClusterPatterns;
  private readonly dedicated = new Set<DedicatedRouter>();
  private readonly signPayload: TransportOptions['signPayload'];
  private down = false;
  private closed = false;

  private constructor(options: TransportOptions) {
    super();
    const seeds = parseClusterUrl(options.url);
    this.displayUrl = redactUrl(options.url);
    this.signPayload = options.signPayload;
    this.nodeOptions = {
      connection: { ...tuningOf(options), tls: options.tls ?? {}, displayUrl: this.displayUrl },
      publishing: {
        ...(options.combinePublishes === undefined
          ? {}
          : { combinePublishes: options.combinePublishes }),
        ...(options.signPayload === undefined ? {} : { signPayload: options.signPayload }),
      },
      seed: seeds[0] as (typeof seeds)[number],
      clientName: options.clientName,
    };
    this.patterns = new ClusterPatterns({
      nodeOptions: this.nodeOptions,
      masters: () => this.slots.map.masters,
      ownerOf: (slot) => this.ownerAddressOf(slot),
      commandOn: (address, args) => this.nodeAt(address).commands.call(args),
      onListenerError: (error, channel) => this.emit('listener-error', error, channel),
    });
    this.slots = new SlotMapSource({
      seeds,
      nodeOptions: this.nodeOptions,
      connectionOf: (address) => this.nodes.get(address.key)?.commands,
      onChange: () => {
        void this.rehome();
      },
    });
  }

  /** Reads the slot map from the first seed that answers and connects every master. */
  static async connect(options: TransportOptions): Promise<ClusterTransport> {
    if (!/^[\w.:/~-]+$/.test(options.clientName)) {
      throw new InvalidOptionError(
        'clientName',
        `"${options.clientName}" has characters Redis refuses`,
      );
    }
    const transport = new ClusterTransport(options);
    try {
      await transport.slots.refresh();
      // Every master settled before close(): ioredis hears only the first error of a TLS
      // socket closed mid-handshake, and a second one (the server's alert) crashes the process.
      const started = await Promise.allSettled(
        transport.slots.map.masters.map((master) => transport.nodeAt(master).start()),
      );
      for (const result of started) if (result.status === 'rejected') throw result.reason;
    } catch (error) {
      await transport.close();
      if (error instanceof ConnectionError || error instanceof PermissionError) throw error;
      throw new ConnectionError(transport.displayUrl, (error as Error).message, { cause: error });
    }
    transport.slots.startPeriodicRefresh();
    return transport;
  }

  get state(): TransportState {
    const nodes = [...this.nodes.values()];
    return {
      connected: this.slots.map.complete && nodes.every((node) => node.commands.state === 'ready'),
      subscribed: [...this.subscriptions.values()].every(
        (subscription) => subscription.node?.subscriber.isReady === true,
      ),
      subscriptions: this.subscriptions.size + this.patterns.count,
      commandsInFlight: nodes.reduce((sum, node) => sum + node.commands.inFlight, 0),
      writes: nodes.reduce((sum, node) => sum + node.commands.writes, 0),
    };
  }

  get backlogBytes(): number {
    let bytes = 0;
    for (const node of this.nodes.values()) bytes += node.commands.backlogBytes;
    return bytes;
  }

  publish(
    channel: string,
    payload: string | Buffer | readonly Buffer[],
    callback: PublishCallback,
  ): void {
    const args = ['SPUBLISH', channel, payload];
    this.sendTo(
      this.ownerOf(slotOfChannel(channel)),
      args,
      (error, reply) => {
        callback(error, typeof reply === 'number' ? reply : 0);
      },
      1,
    );
  }

  publishMergeable(channel: string, payload: string, callback: PublishCallback): void {
    this.publishMergeableTo(this.ownerOf(slotOfChannel(channel)), channel, payload, callback, 1);
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
    const split = splitBySlot(args);
    if (split === undefined) {
      this.sendTo(this.routeTarget(routeOf(args)), args, callback, 1);
      return;
    }
    const replies: RespValue[] = [];
    let remaining = split.parts.length;
    let failed = false;
    for (const [index, part] of split.parts.entries()) {
      this.sendTo(
        this.ownerOf(part.slot),
        part.args,
        (error, reply) => {
          if (failed) return;
          if (error !== null) {
            failed = true;
            callback(error, null);
            return;
          }
          replies[index] = reply;
          if (--remaining > 0) return;
          callback(null, joinReplies(split, replies));
        },
        1,
      );
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    if (this.closed) throw new ShuttingDownError('the transport');
    const subscription: Subscription = { handler, node: undefined };
    this.subscriptions.set(channel, subscription);
    try {
      await this.subscribeWhereOwned(channel, subscription);
    } catch (error) {
      if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const subscription = this.subscriptions.get(channel);
    if (subscription === undefined) return;
    await subscription.node?.subscriber.unsubscribe(channel);
    if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
  }

  psubscribe(pattern: string, handler: MessageHandler): Promise<void> {
    return this.patterns.add(pattern, handler);
  }

  punsubscribe(pattern: string): Promise<void> {
    return this.patterns.remove(pattern);
  }

  reconnectSubscriber(): void {
    // A deaf mailbox may mean its slot moved without a word: read the map, then reconnect.
    void this.slots.refresh().finally(() => {
      for (const node of this.nodes.values()) node.subscriber.reconnect();
      this.patterns.reconnect();
    });
  }

  openDedicated(name: string): Promise<DedicatedConnection> {
    if (this.closed) return Promise.reject(new ShuttingDownError('the transport'));
    const router = new DedicatedRouter({
      nodeOptions: this.nodeOptions,
      name,
      ownerOf: (slot) => this.ownerAddressOf(slot),
      unblockOn: (address, id) => this.nodeAt(address).commands.call(['CLIENT', 'UNBLOCK', id]),
      onClose: () => {
        this.dedicated.delete(router);
      },
    });
    this.dedicated.add(router);
    return Promise.resolve(router);
  }

  async close(graceMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slots.stop();
    await Promise.all([
      ...[...this.nodes.values()].map((node) => node.close(graceMs)),
      this.patterns.close(),
      ...[...this.dedicated].map((router) => router.close(graceMs)),
    ]);
  }

  /** The node serving `slot`, or any master for a command without keys. */
  private routeTarget(slot: number | undefined): ClusterNode | undefined {
    if (slot !== undefined) return this.ownerOf(slot);
    const [first] = this.slots.map.masters;
    return first === undefined ? undefined : this.nodeAt(first);
  }

  private ownerAddressOf(slot: number): ClusterNodeAddress | undefined {
    return this.slots.map.ownerOf(slot);
  }

  private ownerOf(slot: number): ClusterNode | undefined {
    const address = this.ownerAddressOf(slot);
    return address === undefined ? undefined : this.nodeAt(address);
  }

  /** The node at `address`, connecting it on first use. */
  private nodeAt(address: ClusterNodeAddress): ClusterNode {
    let node = this.nodes.get(address.key);
    if (node !== undefined) return node;
    node = new ClusterNode(address, this.nodeOptions);
    this.nodes.set(address.key, node);
    this.watch(node);
    node.start().catch(() => {
      // Reported through 'down' and retried by the connections; the map may drop it.
    });
    return node;
  }

  private watch(node: ClusterNode): void {
    const lost = (error: Error): void => {
      this.slots.nodeDown();
      if (!this.down) {
        this.down = true;
        this.emit('down', error);
      }
    };
    const back = (): void => {
      if (!this.down || this.closed) return;
      if ([...this.nodes.values()].every((each) => each.isReady)) {
        this.down = false;
        this.emit('up');
      }
    };
    node.commands.on('down', lost);
    node.subscriber.on('down', lost);
    node.commands.on('ready', back);
    node.subscriber.on('ready', back);
    node.commands.on('writable', () => this.emit('writable'));
    node.subscriber.on('listener-error', (error: unknown, channel: string) =>
      this.emit('listener-error', error, channel),
    );
    node.subscriber.on('resubscribe-failed', (error: Error) =>
      this.emit('resubscribe-failed', error),
    );
    node.subscriber.on('moved', () => {
      void this.slots.refresh();
    });
  }

  /** Sends `args` to `node`, following redirects and retrying where it was never run. */
  private sendTo(
    node: ClusterNode | undefined,
    args: readonly CommandArgument[],
    callback: ReplyCallback,
    attempt: number,
  ): void {
    if (this.closed) {
      callback(new ShuttingDownError('the transport'), null);
      return;
    }
    if (node === undefined) {
      // No master serves the slot (a failover under way): try again with the next map.
      this.retryAfterRefresh(args, callback, attempt, noOwnerError(this.displayUrl, args));
      return;
    }
    node.commands.send(args, (error, reply) => {
      if (error === null) {
        callback(null, reply);
        return;
      }
      if (attempt < MAX_ATTEMPTS && this.redirected(node.commands, args, callback, error, attempt))
        return;
      callback(node.commands.refused(error, String(args[0])), reply);
    });
  }

  /** Handles MOVED, ASK, TRYAGAIN, CLUSTERDOWN and a retired node; false when `error` is final. */
  private redirected(
    from: CommandConnection,
    args: readonly CommandArgument[],
    callback: ReplyCallback,
    error: Error,
    attempt: number,
  ): boolean {
    if (error instanceof ShuttingDownError) {
      // Never written: its node left the map (closed while it waited). Route it again.
      if (this.closed || from.state !== 'closed') return false;
      this.sendTo(this.routeTarget(routeOf(args)), args, callback, attempt + 1);
      return true;
    }
    if (!(error instanceof RedisReplyError)) return false;
    const redirect = redirectOf(error.message);
    if (redirect !== undefined) {
      const target = this.nodeAt({ key: nodeKey(redirect.host, redirect.port), ...redirect });
      if (redirect.kind === 'MOVED') {
        void this.slots.refresh();
        this.sendTo(target, args, callback, attempt + 1);
      } else {
        // ASK: this one command, on the target, right after ASKING on the same connection.
        target.commands.send(['ASKING'], () => undefined);
        this.sendTo(target, args, callback, attempt + 1);
      }
      return true;
    }
    if (/^(TRYAGAIN|CLUSTERDOWN)/.test(error.message)) {
      this.retryAfterRefresh(args, callback, attempt, error);
      return true;
    }
    return false;
  }

  private retryAfterRefresh(
    args: readonly CommandArgument[],
    callback: ReplyCallback,
    attempt: number,
    error: Error,
  ): void {
    if (attempt >= MAX_ATTEMPTS) {
      callback(error, null);
      return;
    }
    void this.slots.refreshAfter(attempt).then(() => {
      this.sendTo(this.routeTarget(routeOf(args)), args, callback, attempt + 1);
    });
  }

  private publishMergeableTo(
    node: ClusterNode | undefined,
    channel: string,
    payload: string,
    callback: PublishCallback,
    attempt: number,
  ): void {
    if (node === undefined) {
      const signed = this.signPayload === undefined ? payload : this.signPayload(channel, payload);
      this.publish(channel, signed, callback);
      return;
    }
    node.commands.publishMergeable(channel, payload, (error, receivers) => {
      const redirect = error instanceof RedisReplyError ? redirectOf(error.message) : undefined;
      if (redirect === undefined || attempt >= MAX_ATTEMPTS) {
        callback(error, receivers);
        return;
      }
      void this.slots.refresh();
      const target = this.nodeAt({ key: nodeKey(redirect.host, redirect.port), ...redirect });
      this.publishMergeableTo(target, channel, payload, callback, attempt + 1);
    });
  }

  /** Subscribes `channel` on the master of its slot, again on the next map when that moved. */
  private async subscribeWhereOwned(channel: string, subscription: Subscription): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const node = this.ownerOf(slotOf(channel));
      if (node !== undefined) {
        let onMoved = (): void => undefined;
        const moved = new Promise<'moved'>((resolve) => {
          onMoved = () => {
            resolve('moved');
          };
          node.subscriber.once('moved', onMoved);
        });
        const outcome = await Promise.race([
          node.subscriber.subscribe(channel, subscription.handler),
          moved,
        ]).finally(() => node.subscriber.off('moved', onMoved));
        if (outcome !== 'moved') {
          subscription.node = node;
          return;
        }
      }
      if (attempt >= MAX_ATTEMPTS) throw noOwnerError(this.displayUrl, ['SSUBSCRIBE', channel]);
      await this.slots.refreshAfter(attempt);
    }
  }

  /** After a new slot map: subscriptions follow their slots; masters that left are closed. */
  private async rehome(): Promise<void> {
    const moves: Promise<void>[] = [];
    for (const [channel, subscription] of this.subscriptions) {
      const owner = this.ownerAddressOf(slotOf(channel));
      if (owner === undefined || subscription.node?.address.key === owner.key) continue;
      const previous = subscription.node;
      subscription.node = undefined;
      moves.push(
        this.subscribeWhereOwned(channel, subscription)
          .then(() => previous?.subscriber.unsubscribe(channel))
          .catch((error: unknown) => {
            this.emit('resubscribe-failed', error as Error);
          }),
      );
    }
    await Promise.all(moves);
    const masters = new Set(this.slots.map.masters.map((master) => master.key));
    for (const [key, node] of this.nodes) {
      if (masters.has(key)) continue;
      this.nodes.delete(key);
      void node.close(0);
    }
    if (this.down && [...this.nodes.values()].every((node) => node.isReady)) {
      this.down = false;
      this.emit('up');
    }
  }
}

function noOwnerError(displayUrl: string, args: readonly CommandArgument[]): ConnectionError {
  return new ConnectionError(
    displayUrl,
    `no master serves the slot of ${String(args[0])} now (a failover may be under way); ` +
      `check the cluster with redis-cli --cluster check`,
  );
}
