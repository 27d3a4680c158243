/** `redis-actors ls`, `ask` and `monitor` against a Redis Cluster (REDIS_URL=redis+cluster://…). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, defineActor } from '../../src/index.js';
import type { ActorListing } from '../../src/cli/ls-command.js';
import { assertBuildIsCurrent, runCommand, uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
const systems: ActorSystem[] = [];
beforeAll(async () => {
  assertBuildIsCurrent();
  cluster = await startCluster();
});
afterAll(async () => {
  await Promise.all(systems.map((system) => system.stop()));
  await cluster.stop();
});

function cli(args: string[], namespace: string) {
  return runCommand('npx', ['--offline', 'redis-actors', ...args], {
    REDIS_URL: cluster.url,
    REDIS_ACTORS_NAMESPACE: namespace,
  });
}

async function withActors(namespace: string, names: string[]): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url: cluster.url, namespace });
  systems.push(system);
  const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
  for (const name of names) await system.spawn(echo, { name });
  return system;
}

describe('the CLI on a Redis Cluster', () => {
  it('broker --cluster starts a local cluster, prints its URL, and stops it on Ctrl-C', async () => {
    const broker = runCommand('npx', ['--offline', 'redis-actors', 'broker', '--cluster'], {});
    const line = await broker.waitForLine(/^REDIS_URL=redis\+cluster:\/\//);
    const url = line.slice('REDIS_URL='.length);
    const system = await ActorSystem.start({ url, namespace: uniqueNamespace() });
    await system.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
      name: 'tried',
    });
    expect(await system.ask('tried', 'echo', 'on a local cluster')).toBe('on a local cluster');
    await system.stop();
    broker.signalGroup('SIGINT');
    await broker.waitForLine(/^cluster stopped$/);
    // npx itself dies of the SIGINT, as at a terminal; the command stopped the cluster first.
    await broker.exited;
    const ports = url.slice('redis+cluster://'.length).split(',');
    const { connect } = await import('node:net');
    const refused = await Promise.all(
      ports.map(
        (hostPort) =>
          new Promise<boolean>((resolve) => {
            const [host, port] = hostPort.split(':');
            const socket = connect(Number(port), host);
            socket.once('connect', () => {
              socket.destroy();
              resolve(false);
            });
            socket.once('error', () => {
              resolve(true);
            });
          }),
      ),
    );
    expect(refused).toEqual(ports.map(() => true));
  });

  it('ls lists the actors whose keys lie on every master; ask answers', async () => {
    const namespace = uniqueNamespace();
    const names = Array.from({ length: 9 }, (_, i) => `svc${i}`);
    const system = await withActors(namespace, names);
    const ls = cli(['ls', '--json'], namespace);
    expect((await ls.exited).code).toBe(0);
    const listed = JSON.parse(ls.stdout.join('\n')) as ActorListing[];
    expect(listed.map((actor) => actor.name).filter(Boolean)).toEqual(names);
    expect(listed.every((actor) => actor.pid === process.pid)).toBe(true);
    const ask = cli(['ask', 'svc4', 'echo', '"over the cluster"'], namespace);
    expect((await ask.exited).code).toBe(0);
    expect(ask.stdout.join('\n')).toContain('over the cluster');
    expect(system.address).toBeTruthy();
  });

  it('spawn runs a supervised tree that answers by name and comes back after kill -9', async () => {
    const namespace = uniqueNamespace();
    const spawned = cli(['spawn', 'actors/clock.ts', '--name', 'tick', '--count', '3'], namespace);
    await spawned.waitForLine(/^Ctrl-C stops them$/);
    const pids = (await spawned.waitForLines(/^spawned tick-\d /, 3)).map((line) =>
      Number(/pid (\d+)/.exec(line)?.[1]),
    );
    const client = await ActorSystem.start({ url: cluster.url, namespace });
    systems.push(client);
    for (const name of ['tick-1', 'tick-2', 'tick-3']) {
      expect(await client.ask(name, 'time')).toMatchObject({ iso: expect.any(String) as unknown });
    }
    process.kill(pids[1] as number, 'SIGKILL');
    await spawned.waitForLine(/^restarted tick-2 /);
    expect(await client.ask('tick-2', 'time')).toMatchObject({
      iso: expect.any(String) as unknown,
    });
    spawned.signalGroup('SIGINT');
    await spawned.waitForLines(/^tick-\d \(pid \d+\) stopped$/, 3);
    await spawned.exited;
  });

  it('monitor shows asks and replies on channels of every shard', async () => {
    const namespace = uniqueNamespace();
    const names = Array.from({ length: 6 }, (_, i) => `watched${i}`);
    const system = await withActors(namespace, names);
    const monitor = cli(['monitor', '--json'], namespace);
    await monitor.waitForLine(/^monitoring namespace/);
    await monitor.waitForLine(/^watching with Redis MONITOR on every master/);
    for (const name of names) await system.ask(name, 'echo', name);
    // Replies come from the actors' addresses, on the asker's reply channel.
    await monitor.waitForLines(/"kind":"reply"/, names.length);
    const asks = monitor.lines.filter((line) => line.includes('"kind":"ask"'));
    const askedNames = asks.map((line) => (JSON.parse(line) as { to: string }).to);
    expect(new Set(askedNames)).toEqual(new Set(names));
    monitor.signalGroup('SIGINT');
    await monitor.exited;
  });
});
