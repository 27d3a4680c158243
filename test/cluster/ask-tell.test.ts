/**
 * Asks and tells across the nodes of a Redis Cluster: sharded pub/sub, so a
 * publish's receiver count is that of the shard that owns the channel.
 */
import { describe, expect, it } from 'vitest';
import { NoRecipientError, defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { deferred, uniqueNamespace } from '../helpers.js';
import { useCluster } from './cluster.js';

const { cluster, start } = useCluster();

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

describe('on a Redis Cluster', () => {
  it('asks by name and by address, 1,000 times across nodes, with no false NoRecipientError', async () => {
    const namespace = uniqueNamespace();
    const server = await start(namespace);
    const client = await start(namespace);
    const names = Array.from({ length: 12 }, (_, i) => `echo${i}`);
    for (const name of names) await server.spawn(echo, { name });
    // The channels of the names lie on every master.
    const owners = new Set(
      await Promise.all(
        names.map(async (name) => (await cluster().masterOf(slotOf(`${namespace}:${name}`))).port),
      ),
    );
    expect(owners.size).toBe(3);
    let noRecipient = 0;
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        client.ask(names[i % names.length] as string, 'echo', i).catch((error: unknown) => {
          if (error instanceof NoRecipientError) noRecipient++;
          throw error;
        }),
      ),
    );
    expect(noRecipient).toBe(0);
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(await client.ask(server.address, 'health')).toBeDefined();
  });

  it('says NoRecipientError when nobody listens on the shard of the channel', async () => {
    const client = await start(uniqueNamespace());
    await expect(client.ask('nobody-here', 'echo', 1)).rejects.toBeInstanceOf(NoRecipientError);
  });

  it('claim-checks large asks and replies: the stored value waits in the slot of its channel', async () => {
    const namespace = uniqueNamespace();
    const server = await start(namespace);
    const client = await start(namespace);
    const names = Array.from({ length: 6 }, (_, i) => `big${i}`);
    for (const name of names) await server.spawn(echo, { name });
    const body = 'x'.repeat(3 * 1024 * 1024);
    for (let round = 0; round < 5; round++) {
      const replies = await Promise.all(names.map((name) => client.ask(name, 'echo', body)));
      expect(replies.every((reply) => reply === body)).toBe(true);
    }
    const refused = { ...server.stats().invalidByReason, ...client.stats().invalidByReason };
    expect(refused['claim-missing'] ?? 0).toBe(0);
  });

  it('tells arrive in order', async () => {
    const namespace = uniqueNamespace();
    const server = await start(namespace);
    const client = await start(namespace);
    const seen: number[] = [];
    const done = deferred();
    await server.spawn(
      defineActor({
        handlers: {
          note: (n: number) => {
            seen.push(n);
            if (n === 499) done.resolve();
          },
        },
      }),
      { name: 'notes' },
    );
    for (let i = 0; i < 500; i++) await client.tell('notes', 'note', i);
    await done.promise;
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
