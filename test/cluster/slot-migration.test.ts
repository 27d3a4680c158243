/**
 * A slot moved to another master while an actor's channel lives in it (a
 * resharding): Redis ends the sharded subscriptions of that slot on the old
 * master without being asked; the transport must notice, read the new map and
 * subscribe on the new owner, and commands follow ASK/MOVED meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
const systems: ActorSystem[] = [];
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await Promise.all(systems.map((system) => system.stop()));
  await cluster.stop();
});

describe('slot migration', () => {
  it('an actor whose channel slot moves to another master answers again, its keys followed', async () => {
    const namespace = uniqueNamespace();
    const server = await ActorSystem.start({ url: cluster.url, namespace });
    const client = await ActorSystem.start({ url: cluster.url, namespace });
    systems.push(server, client);
    await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
      name: 'mover',
    });
    expect(await client.ask('mover', 'echo', 'before')).toBe('before');
    const slot = slotOf(`${namespace}:mover`);
    const from = await cluster.masterOf(slot);
    const to = (await cluster.masters()).find((master) => master !== from);
    if (to === undefined) throw new Error('no other master');
    const [source, target] = [cluster.admin(from), cluster.admin(to)];
    const [fromId, toId] = await Promise.all([
      source.call('CLUSTER', 'MYID') as Promise<string>,
      target.call('CLUSTER', 'MYID') as Promise<string>,
    ]);
    await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
    if (keys.length > 0) {
      await source.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
    }
    for (const master of await cluster.masters()) {
      await cluster.admin(master).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    }
    const movedAt = Date.now();
    let answered = false;
    while (!answered) {
      answered = await client.ask('mover', 'echo', 'after', { timeoutMs: 300 }).then(
        () => true,
        () => false,
      );
    }
    const recoveredMs = Date.now() - movedAt;
    console.log(`slot migration: mover answered again ${recoveredMs} ms after its slot moved`);
    // The periodic map refresh alone would take up to 5 s: the server's subscriber must have
    // heard the unasked SUNSUBSCRIBE and moved the subscription at once.
    expect(recoveredMs).toBeLessThan(2500);
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.ask('mover', 'echo', i)),
    );
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect((await client.registry.list()).map((actor) => actor.name)).toContain('mover');
  });
});
