import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBroker, startLocalCluster } from '../index.js';
import type { Command } from './command.js';
import { EXIT } from './usage.js';

export const brokerCommand: Command = {
  name: 'broker',
  summary: 'run the private Redis in the foreground and print its REDIS_URL',
  help: `usage: redis-actors broker [--dir path] [--cluster]

Starts a private redis-server on a unix socket (mode 700, no persistence) in
the per-user runtime directory (or --dir), prints REDIS_URL=… for other
processes (processes of this user also find it by themselves), and keeps it
running until Ctrl-C. If one already runs, prints its URL and exits.

With --cluster: a Redis Cluster of 3 masters and 3 replicas on free ports of
127.0.0.1 instead (redis-server and redis-cli 7 or later), to try the cluster
transport; it prints REDIS_URL=redis+cluster://…, which processes must be given.`,
  options: { dir: { type: 'string' }, cluster: { type: 'boolean' } },
  async run({ values }) {
    const dir = values.dir as string | undefined;
    if (values.cluster === true) return runLocalCluster(dir);
    const broker = await findBroker({
      useEnv: false,
      ...(dir === undefined ? {} : { runtimeDir: dir }),
    });
    process.stdout.write(`REDIS_URL=${broker.url}\n`);
    if (!broker.owned) {
      process.stderr.write('a private broker already runs there (started by another process)\n');
      return EXIT.ok;
    }
    process.stderr.write(
      `${broker.source === 'container' ? 'redis:7 container' : 'private redis-server'} ready. ` +
        `Processes of this user find it by themselves; elsewhere: export REDIS_URL=${broker.url}\n` +
        'Ctrl-C stops it.\n',
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await broker.stop();
    process.stderr.write('broker stopped\n');
    return EXIT.ok;
  },
};

/** A local cluster in the foreground until Ctrl-C, in `dir` or a temporary directory. */
async function runLocalCluster(dir: string | undefined): Promise<number> {
  const base = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'redis-actors-cluster-'));
  const cluster = await startLocalCluster({ dir: base });
  process.stdout.write(`REDIS_URL=${cluster.url}\n`);
  process.stderr.write(
    `Redis Cluster ready: 3 masters, 3 replicas, no persistence. ` +
      `Give processes REDIS_URL=${cluster.url}\nCtrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
  if (dir === undefined) fs.rmSync(base, { recursive: true, force: true });
  process.stderr.write('cluster stopped\n');
  return EXIT.ok;
}
