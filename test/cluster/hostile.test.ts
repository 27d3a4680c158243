/**
 * A stranger on a Redis Cluster: sharded channels of the namespace are open
 * to anyone who can SSUBSCRIBE, and the monitor follows the ones that have
 * subscribers. Twelve thousand of them must not become twelve thousand
 * subscriptions of the monitor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ActorSystem, defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { deferred, uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
const systems: ActorSystem[] = [];
const strangers: Redis[] = [];
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  for (const stranger of strangers) stranger.disconnect();
  await Promise.all(systems.map((system) => system.stop()));
  await cluster.stop();
});

describe('a stranger on a cluster', () => {
  it('12,000 subscribed channels: the monitor follows at most 10,000, counts the rest, and keeps showing what it showed', async () => {
    const namespace = uniqueNamespace();
    const system = await ActorSystem.start({ url: cluster.url, namespace });
    systems.push(system);
    await system.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
      name: 'real',
    });
    let seen = deferred<string>();
    // The emulation of patterns on sharded pub/sub is what this is about.
    const stop = await system.monitor(
      (event) => {
        if (event.envelope?.kind === 'ask' && event.envelope.to === 'real')
          seen.resolve(event.target);
      },
      { mode: 'psubscribe' },
    );
    await system.ask('real', 'echo', 'watched?');
    expect(await seen.promise).toBe('real');
    // The stranger: each fake channel subscribed on the master of its slot.
    const masters = await cluster.masters();
    const ranges = (await cluster
      .admin(masters[0] as (typeof masters)[number])
      .call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const portOf = (slot: number) =>
      ranges.find(([from, to]) => from <= slot && slot <= to)?.[2][1];
    const clients = new Map(
      masters.map((master) => {
        const client = new Redis({ port: master.port });
        strangers.push(client);
        return [master.port, client] as const;
      }),
    );
    const subscribed: Promise<unknown>[] = [];
    for (let i = 0; i < 12_000; i++) {
      const channel = `${namespace}:fake-${i}`;
      const client = clients.get(portOf(slotOf(channel)) ?? 0);
      if (client !== undefined) subscribed.push(client.ssubscribe(channel));
    }
    await Promise.all(subscribed);
    // The next poll of the monitor finds them all (it polls every second).
    const counted = () => system.stats().invalidByReason['listener-threw'] ?? 0;
    while (counted() === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    seen = deferred<string>();
    await system.ask('real', 'echo', 'still watched?');
    expect(await seen.promise).toBe('real');
    let followed = 0;
    for (const node of cluster.nodes) {
      const list = String(await cluster.admin(node).call('CLIENT', 'LIST'));
      for (const line of list.split('\n')) {
        if (/name=\S*:follow /.test(line)) followed += Number(/ssub=(\d+)/.exec(line)?.[1] ?? 0);
      }
    }
    expect(followed).toBe(10_000);
    await stop();
  });
});
