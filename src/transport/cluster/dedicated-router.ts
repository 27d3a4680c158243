/**
 * A dedicated connection (for commands that block it, BLPOP and the like) on
 * a cluster: one connection per master, opened when a command's slot first
 * needs it; each command goes to the master of its key's slot.
 */
import { ShuttingDownError } from '../../errors.js';
import { CommandConnection } from '../command-connection.js';
import type { CommandArgument, RespValue } from '../resp.js';
import type { DedicatedConnection } from '../transport.js';
import { type NodeConnectionOptions, connectionOptions } from './cluster-node.js';
import { routeOf } from './command-route.js';
import type { ClusterNodeAddress } from './slot-map.js';

export interface DedicatedRouterParts {
  nodeOptions: NodeConnectionOptions;
  /** Its connections are named `<client name>:<name>`. */
  name: string;
  ownerOf(slot: number): ClusterNodeAddress | undefined;
  /** CLIENT UNBLOCK `id` on the shared connection of that node. */
  unblockOn(address: ClusterNodeAddress, id: string): Promise<unknown>;
  onClose(): void;
}

export class DedicatedRouter implements DedicatedConnection {
  private readonly connections = new Map<
    string,
    { address: ClusterNodeAddress; connection: CommandConnection; ready: Promise<void> }
  >();
  private closed = false;

  constructor(private readonly parts: DedicatedRouterParts) {}

  async call(args: readonly CommandArgument[]): Promise<RespValue> {
    if (this.closed) throw new ShuttingDownError('the dedicated connection');
    const slot = routeOf(args);
    const address = slot === undefined ? undefined : this.parts.ownerOf(slot);
    const [first] = this.connections.values();
    const target = address ?? first?.address;
    if (target === undefined) throw new ShuttingDownError('the dedicated connection (no master)');
    const entry = this.open(target);
    await entry.ready;
    return entry.connection.call(args);
  }

  async unblock(): Promise<void> {
    const unblocks: Promise<unknown>[] = [];
    for (const { address, connection } of this.connections.values()) {
      const id = connection.clientId;
      if (id !== undefined && connection.inFlight > 0) {
        unblocks.push(this.parts.unblockOn(address, String(id)));
      }
    }
    await Promise.all(unblocks);
  }

  async close(graceMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.onClose();
    await Promise.all(
      [...this.connections.values()].map(({ connection }) => connection.close(graceMs)),
    );
  }

  private open(address: ClusterNodeAddress): {
    address: ClusterNodeAddress;
    connection: CommandConnection;
    ready: Promise<void>;
  } {
    const existing = this.connections.get(address.key);
    if (existing !== undefined) return existing;
    const connection = new CommandConnection(
      connectionOptions(this.parts.nodeOptions, address, this.parts.name),
    );
    const entry = { address, connection, ready: connection.connect() };
    entry.ready.catch(() => this.connections.delete(address.key));
    this.connections.set(address.key, entry);
    return entry;
  }
}
