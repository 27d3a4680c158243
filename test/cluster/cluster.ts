/**
 * A Redis Cluster of the tests' own (startLocalCluster: 3 masters and 3
 * replicas on free ports of 127.0.0.1, no persistence), with what tests need
 * to watch and break it: who owns a slot, kill -9 of a node, wait for a failover.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import {
  ActorSystem,
  type LocalCluster,
  type LocalClusterNode,
  startLocalCluster,
} from '../../src/index.js';

export type ClusterNode = LocalClusterNode;

export interface TestCluster {
  /** `redis+cluster://127.0.0.1:<port>,…` with every node as a seed. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** The masters now (asked of a live node). */
  masters(): Promise<ClusterNode[]>;
  /** The master that owns `slot` now. */
  masterOf(slot: number): Promise<ClusterNode>;
  /** kill -9 of a node; resolves once it is gone. */
  kill(node: ClusterNode): Promise<void>;
  /** Resolves once every slot is served by a live master again (cluster_state:ok everywhere). */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Resolves once another master serves `slot` than `previous` (a failover), and the cluster is healthy. */
  waitForPromotion(slot: number, previous: ClusterNode, timeoutMs?: number): Promise<void>;
  /** An ioredis client to one node, closed by stop(). */
  admin(node: ClusterNode): Redis;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-cluster-'));
  const killed = new Set<ClusterNode>();
  const admins: Redis[] = [];
  let local: LocalCluster;
  try {
    local = await startLocalCluster({ dir: base });
  } catch (error) {
    fs.rmSync(base, { recursive: true, force: true });
    throw error;
  }
  const { nodes } = local;
  const stop = async (): Promise<void> => {
    for (const admin of admins) admin.disconnect();
    await local.stop();
    fs.rmSync(base, { recursive: true, force: true });
  };
  const admin = (node: ClusterNode): Redis => {
    const client = new Redis({
      port: node.port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    admins.push(client);
    return client;
  };
  const live = (): ClusterNode[] => nodes.filter((node) => !killed.has(node));
  const slotOwners = async (): Promise<{ start: number; end: number; port: number }[]> => {
    const reply = (await admin(live()[0] as ClusterNode).call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][];
    return reply.map(([start, end, [, port]]) => ({ start, end, port }));
  };
  const byPort = (port: number): ClusterNode => {
    const node = nodes.find((each) => each.port === port);
    if (node === undefined) throw new Error(`no node of this cluster on port ${port}`);
    return node;
  };
  const cluster: TestCluster = {
    url: local.url,
    nodes,
    async masters() {
      return [...new Set((await slotOwners()).map((range) => range.port))].map(byPort);
    },
    async masterOf(slot) {
      const range = (await slotOwners()).find((each) => each.start <= slot && slot <= each.end);
      if (range === undefined) throw new Error(`slot ${slot} has no master`);
      return byPort(range.port);
    },
    async kill(node) {
      killed.add(node);
      process.kill(node.server.pid, 'SIGKILL');
      await node.server.exited;
    },
    async waitUntilHealthy(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          live().map(async (node) => {
            const client = admin(node);
            const info = String(await client.call('CLUSTER', 'INFO'));
            // A replica that has not synced yet could not take over from its master.
            const replication = String(await client.call('INFO', 'replication'));
            client.disconnect();
            const synced =
              !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
            return /cluster_state:ok/.test(info) && synced;
          }),
        ).catch(() => [false]);
        if (states.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`cluster not healthy after ${timeoutMs} ms`);
        // Polls a server of our own (nothing to subscribe to for cluster_state).
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async waitForPromotion(slot, previous, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while ((await cluster.masterOf(slot).catch(() => previous)) === previous) {
        if (Date.now() > deadline) throw new Error(`no replica took over within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await cluster.waitUntilHealthy(Math.max(0, deadline - Date.now()));
    },
    admin,
    stop,
  };
  return cluster;
}

/**
 * For a test file: a cluster started before its tests and stopped after them,
 * with the actor systems `start` made on it (stopped first).
 */
export function useCluster(): {
  cluster: () => TestCluster;
  start: (namespace: string) => Promise<ActorSystem>;
} {
  let cluster: TestCluster | undefined;
  const systems: ActorSystem[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await Promise.all(systems.map((system) => system.stop()));
    await cluster?.stop();
  });
  const current = (): TestCluster => {
    if (cluster === undefined) throw new Error('the cluster is started in beforeAll');
    return cluster;
  };
  return {
    cluster: current,
    start: async (namespace) => {
      const system = await ActorSystem.start({ url: current().url, namespace });
      systems.push(system);
      return system;
    },
  };
}
