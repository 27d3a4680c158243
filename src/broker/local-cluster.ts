/**
 * A Redis Cluster on this machine, for trying the cluster transport, tests
 * and the benchmark: `masters` masters with `replicasPerMaster` replicas each,
 * every node a redis-server on a free port of 127.0.0.1 in a directory of its
 * own, without persistence, joined with `redis-cli --cluster create`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { BrokerNotFoundError } from '../errors.js';
import { type RunningRedisServer, startRedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface LocalClusterOptions {
  /** A directory of the caller's; a `node<i>` directory is made in it for each node. */
  dir: string;
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /**
   * How long a master may be silent before its replica takes over
   * (`cluster-node-timeout`).
   * @default 1000
   */
  nodeTimeoutMs?: number;
}

export interface LocalClusterNode {
  readonly port: number;
  readonly server: RunningRedisServer;
}

export interface LocalCluster {
  /** `redis+cluster://127.0.0.1:<port>,…`, every node a seed. */
  readonly url: string;
  readonly nodes: readonly LocalClusterNode[];
  /** Stops every node that still runs. */
  stop(): Promise<void>;
}

/** Starts the nodes and joins them; resolves once every slot is served and every replica synced. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodes: LocalClusterNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.server.stop()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const dir = path.join(options.dir, `node${i}`);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const port = await freePort();
      const server = await startRedisServer({
        dir,
        port,
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 1000),
          // A replica takes over however long ago it last heard its master.
          '--cluster-replica-validity-factor',
          '0',
        ],
      });
      nodes.push({ port, server });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]).catch((error: unknown) => {
      throw new BrokerNotFoundError(
        `redis-cli --cluster create failed: ${(error as Error).message}`,
        'A local cluster needs redis-server and redis-cli 7 or later (apt install redis-server).',
      );
    });
    await untilHealthy(nodes, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    nodes,
    stop,
  };
}

/** Waits until every node says cluster_state:ok and every replica's link to its master is up. */
async function untilHealthy(nodes: readonly LocalClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const healthy = await Promise.all(
      nodes.map(async ({ port }) => {
        const info = await redisCli(port, ['CLUSTER', 'INFO']);
        const replication = await redisCli(port, ['INFO', 'replication']);
        const synced =
          !replication.includes('role:slave') || replication.includes('master_link_status:up');
        return info.includes('cluster_state:ok') && synced;
      }),
    ).catch(() => [false]);
    if (healthy.every(Boolean)) return;
    if (Date.now() > deadline) {
      throw new BrokerNotFoundError(`the local cluster was not healthy within ${timeoutMs} ms`);
    }
    // Nothing to wait on: redis-cli --cluster create has no "joined" event.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function redisCli(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
  return stdout;
}

/** A free TCP port on 127.0.0.1 (released before returning: a tiny race remains). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}
