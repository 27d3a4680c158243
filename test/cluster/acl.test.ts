/**
 * A namespace user on a Redis Cluster: `redis-actors acl --apply` with a
 * cluster URL makes it on every node (each node keeps its own users), with
 * the cluster's commands; as that user, the whole feature set works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, PermissionError, defineActor } from '../../src/index.js';
import { namespaceAclArguments } from '../../src/broker/index.js';
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

async function applyAcl(namespace: string, user: string): Promise<string> {
  const apply = runCommand(
    'npx',
    ['--offline', 'redis-actors', 'acl', namespace, '--user', user, '--password', 'pw', '--apply'],
    { REDIS_URL: cluster.url },
  );
  expect((await apply.exited).code).toBe(0);
  expect(apply.stdout.join('\n')).toContain(`on all ${cluster.nodes.length} nodes`);
  return cluster.url.replace('redis+cluster://', `redis+cluster://${user}:pw@`);
}

describe('a namespace user on a Redis Cluster', () => {
  it('is made on every node; as it, asks, tells, claim checks, values and ls work', async () => {
    const namespace = uniqueNamespace();
    const url = await applyAcl(namespace, `u${namespace}`);
    for (const node of cluster.nodes) {
      const users = (await cluster.admin(node).call('ACL', 'USERS')) as string[];
      expect(users).toContain(`u${namespace}`);
    }
    const server = await ActorSystem.start({ url, namespace });
    const client = await ActorSystem.start({ url, namespace });
    systems.push(server, client);
    const names = Array.from({ length: 6 }, (_, i) => `svc${i}`);
    for (const name of names) {
      await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), { name });
    }
    for (const name of names) expect(await client.ask(name, 'echo', name)).toBe(name);
    const large = 'z'.repeat(2 * 1024 * 1024);
    expect(await client.ask('svc3', 'echo', large)).toBe(large);
    const values = client.values<{ n: number }>('counter');
    await values.set('n', 41);
    expect(await server.values<{ n: number }>('counter').get('n')).toBe(41);
    const ls = runCommand('npx', ['--offline', 'redis-actors', 'ls', '--json'], {
      REDIS_URL: url,
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    expect((await ls.exited).code).toBe(0);
    const listed = JSON.parse(ls.stdout.join('\n')) as { name?: string }[];
    expect(listed.map((actor) => actor.name).filter(Boolean)).toEqual(names);
  });

  it('a user without the cluster grants gets a PermissionError naming CLUSTER, not "no Redis"', async () => {
    const namespace = uniqueNamespace();
    const user = `u${namespace}`;
    const args = namespaceAclArguments(namespace, { user, password: 'pw' });
    for (const node of cluster.nodes) await cluster.admin(node).call('ACL', 'SETUSER', ...args);
    const url = cluster.url.replace('redis+cluster://', `redis+cluster://${user}:pw@`);
    const error = await ActorSystem.start({ url, namespace }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as Error).message).toMatch(/CLUSTER/);
  });

  it("another namespace's user may not reach the first namespace's keys", async () => {
    const a = uniqueNamespace();
    const b = uniqueNamespace();
    await applyAcl(a, `u${a}`);
    const urlB = await applyAcl(b, `u${b}`);
    const intruder = await ActorSystem.start({ url: urlB, namespace: b });
    systems.push(intruder);
    const error = await intruder.command(['GET', `${a}:values:{x}`]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionError);
  });
});
