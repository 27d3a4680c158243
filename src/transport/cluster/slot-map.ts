/**
 * Which master serves each slot, read from `CLUSTER SLOTS`, and the
 * redirects (`MOVED`, `ASK`) that say the map is out of date.
 */
import { SLOT_COUNT } from './slot.js';
import { nodeKey } from './cluster-url.js';

/** A master as the slot map names it. */
export interface ClusterNodeAddress {
  key: string;
  host: string;
  port: number;
}

export class SlotMap {
  private constructor(
    private readonly owners: (ClusterNodeAddress | undefined)[],
    /** The masters, each once. */
    readonly masters: readonly ClusterNodeAddress[],
    /** Every node named, replicas too. */
    readonly nodes: readonly ClusterNodeAddress[],
    /** Equal for two maps that give every slot the same master. */
    readonly signature: string,
  ) {}

  /**
   * From a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id], replicas…], …]`.
   * A node announced with an empty host is the one that answered (`fallbackHost`).
   */
  static fromClusterSlots(reply: unknown, fallbackHost: string): SlotMap {
    const owners = new Array<ClusterNodeAddress | undefined>(SLOT_COUNT).fill(undefined);
    const masters = new Map<string, ClusterNodeAddress>();
    const nodes = new Map<string, ClusterNodeAddress>();
    const ranges: string[] = [];
    if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS did not answer with a list');
    for (const range of reply) {
      if (!Array.isArray(range) || range.length < 3) continue;
      const [start, end, master, ...replicas] = range as unknown[];
      if (typeof start !== 'number' || typeof end !== 'number') continue;
      const named = addressOf(master, fallbackHost);
      if (named === undefined) continue;
      const node = masters.get(named.key) ?? named;
      masters.set(node.key, node);
      for (const each of [node, ...replicas.map((replica) => addressOf(replica, fallbackHost))]) {
        if (each !== undefined) nodes.set(each.key, each);
      }
      ranges.push(`${start}-${end}@${node.key}`);
      for (let slot = Math.max(0, start); slot <= Math.min(end, SLOT_COUNT - 1); slot++) {
        owners[slot] = node;
      }
    }
    return new SlotMap(owners, [...masters.values()], [...nodes.values()], ranges.sort().join(','));
  }

  /** The master serving `slot`, or `undefined` while no master does. */
  ownerOf(slot: number): ClusterNodeAddress | undefined {
    return this.owners[slot];
  }

  /** Whether every slot has a master. */
  get complete(): boolean {
    return this.owners.every((owner) => owner !== undefined);
  }
}

/** A node of a CLUSTER SLOTS entry, `[host, port, id, …]`. */
function addressOf(entry: unknown, fallbackHost: string): ClusterNodeAddress | undefined {
  if (!Array.isArray(entry)) return undefined;
  const rawHost: unknown = entry[0];
  const named = typeof rawHost === 'string' || Buffer.isBuffer(rawHost) ? rawHost.toString() : '';
  const host = named === '' ? fallbackHost : named;
  const port = Number(entry[1]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { key: nodeKey(host, port), host, port };
}

/** A redirect from a `MOVED <slot> <host:port>` or `ASK <slot> <host:port>` error. */
export interface Redirect {
  kind: 'MOVED' | 'ASK';
  slot: number;
  host: string;
  port: number;
}

/** The redirect an error message carries, if it is one. */
export function redirectOf(message: string): Redirect | undefined {
  const match = /^(MOVED|ASK) (\d+) (.*):(\d+)$/.exec(message);
  if (match === null) return undefined;
  const [, kind, slot, host, port] = match as unknown as [
    string,
    'MOVED' | 'ASK',
    string,
    string,
    string,
  ];
  return { kind, slot: Number(slot), host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(port) };
}
