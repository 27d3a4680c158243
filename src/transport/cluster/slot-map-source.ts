/**
 * The transport's current slot map and how it stays current: read from any
 * node that answers (masters first, then replicas and seeds, since a replica
 * may be the master now), again after a redirect, every few seconds, and
 * quickly while a node is down, until a failover shows in the map.
 */
import { PermissionError } from '../../errors.js';
import { CommandConnection } from '../command-connection.js';
import { settledWithin } from '../../util/index.js';
import type { NodeConnectionOptions } from './cluster-node.js';
import { connectionOptions } from './cluster-node.js';
import { type TcpEndpoint, nodeKey } from './cluster-url.js';
import { type ClusterNodeAddress, SlotMap } from './slot-map.js';

/** How often the map is read when nothing asks for it. */
const PERIODIC_REFRESH_MS = 5000;
/** How often while a node is down. */
const DOWN_REFRESH_MS = 250;

export interface SlotMapSourceParts {
  seeds: readonly TcpEndpoint[];
  nodeOptions: NodeConnectionOptions;
  /** The transport's own connection to a node, when it has one. */
  connectionOf(address: ClusterNodeAddress): CommandConnection | undefined;
  /** The map changed (a slot has another master). */
  onChange(): void;
}

export class SlotMapSource {
  map: SlotMap = SlotMap.fromClusterSlots([], '');
  private signature = '';
  /** Every node the maps named (replicas too): where to ask when the masters are gone. */
  private readonly known = new Map<string, { host: string; port: number }>();
  private refreshing: Promise<void> | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private downTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly parts: SlotMapSourceParts) {
    for (const seed of parts.seeds) this.known.set(nodeKey(seed.host, seed.port), seed);
  }

  /** Reads the map now (one read at a time; callers during a read share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** A refresh after a short pause that grows with `attempt` (a failover takes a moment). */
  async refreshAfter(attempt: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500)));
    await this.refresh().catch(() => undefined);
  }

  startPeriodicRefresh(): void {
    this.periodic ??= setInterval(() => {
      this.refresh().catch(() => undefined);
    }, PERIODIC_REFRESH_MS).unref();
  }

  /** A connection to a node was lost: read the map often until it is whole and answered. */
  nodeDown(): void {
    if (this.downTimer !== undefined || this.stopped) return;
    this.downTimer = setInterval(() => {
      void this.refresh()
        .then(() => {
          const masters = this.map.masters;
          const allUp = masters.every(
            (master) => this.parts.connectionOf(master)?.state === 'ready',
          );
          if (allUp && this.map.complete) this.stopDownRefresh();
        })
        .catch(() => undefined);
    }, DOWN_REFRESH_MS).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.periodic);
    this.stopDownRefresh();
  }

  private stopDownRefresh(): void {
    clearInterval(this.downTimer);
    this.downTimer = undefined;
  }

  private async read(): Promise<void> {
    const failures: string[] = [];
    for (const address of this.candidates()) {
      try {
        const map = await this.readFrom(address);
        // A node cut off from the others may answer with holes: prefer a whole map.
        if (!map.complete && failures.length < this.known.size - 1) {
          failures.push(`${nodeKey(address.host, address.port)}: slots missing`);
          continue;
        }
        this.adopt(map);
        return;
      } catch (error) {
        // An ACL refusal is said as such, not as a cluster that is not there.
        if (error instanceof PermissionError) throw error;
        failures.push(`${nodeKey(address.host, address.port)}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no cluster node answered CLUSTER SLOTS (${failures.join('; ')})`);
  }

  /** Masters of the current map first (their connections are open), then every other node. */
  private candidates(): { host: string; port: number }[] {
    const masters = this.map.masters.map(({ host, port }) => ({ host, port }));
    const others = [...this.known.entries()]
      .filter(([key]) => !this.map.masters.some((master) => master.key === key))
      .map(([, address]) => address);
    return [...masters, ...others];
  }

  private async readFrom(address: { host: string; port: number }): Promise<SlotMap> {
    const key = nodeKey(address.host, address.port);
    const own = this.parts.connectionOf({ key, ...address });
    if (own !== undefined && own.state === 'ready') {
      return SlotMap.fromClusterSlots(await own.call(['CLUSTER', 'SLOTS']), address.host);
    }
    const connection = new CommandConnection(
      connectionOptions(this.parts.nodeOptions, address, 'slots'),
    );
    try {
      await connection.connect();
      const reply = await connection.call(['CLUSTER', 'SLOTS']);
      return SlotMap.fromClusterSlots(reply, address.host);
    } finally {
      await settledWithin(connection.close(0), 1000);
    }
  }

  private adopt(map: SlotMap): void {
    for (const node of map.nodes) this.known.set(nodeKey(node.host, node.port), node);
    const signature = map.signature;
    this.map = map;
    if (signature === this.signature) return;
    this.signature = signature;
    this.parts.onChange();
  }
}
