/**
 * Durable mailboxes on a Redis Cluster: the keys of a durable name share its
 * hash tag, so its scripts and its reader's BLPOP go to the master of that
 * slot. Names on every master keep tells sent while their pool is away,
 * answer asks, retry and bury a failing message.
 */
import { describe, expect, it } from 'vitest';
import { defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { deferred, uniqueNamespace } from '../helpers.js';
import { useCluster } from './cluster.js';

const { cluster, start } = useCluster();

describe('durable mailboxes on a Redis Cluster', () => {
  it('keep, hand over and answer on every master, shared by a pool of two systems', async () => {
    const namespace = uniqueNamespace();
    const sender = await start(namespace);
    const names = Array.from({ length: 6 }, (_, i) => `jobs${i}`);
    const owners = new Set(
      await Promise.all(names.map(async (name) => (await cluster().masterOf(slotOf(name))).port)),
    );
    expect(owners.size).toBeGreaterThan(1);
    const seen = new Map<string, number>();
    const all = deferred();
    const worker = defineActor({
      handlers: {
        job: (id: string) => {
          seen.set(id, (seen.get(id) ?? 0) + 1);
          if (seen.size === names.length * 20) all.resolve();
        },
        echo: (body: unknown) => body,
      },
    });
    // Declared, then away: what is told meanwhile waits in the streams.
    const first = await start(namespace);
    for (const name of names) {
      await first.stopActor(
        await first.spawn(worker, { name, mailbox: { durable: true, pool: true } }),
      );
    }
    for (const name of names) {
      for (let i = 0; i < 20; i++) await sender.tell(name, 'job', `${name}-${i}`);
    }
    const members = [await start(namespace), await start(namespace)];
    for (const member of members) {
      for (const name of names) {
        await member.spawn(worker, { name, mailbox: { durable: true, pool: true } });
      }
    }
    await all.promise;
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    for (const name of names) expect(await sender.ask(name, 'echo', name)).toBe(name);
  });

  it('retries a failing tell and buries it in the dead letters', async () => {
    const namespace = uniqueNamespace();
    const sender = await start(namespace);
    const host = await start(namespace);
    await host.spawn(
      defineActor({
        handlers: {
          poison: () => {
            throw new Error('no');
          },
        },
      }),
      { name: 'fragile', mailbox: { durable: true, maxDeliveries: 2, retryDelayMs: 10 } },
    );
    await sender.tell('fragile', 'poison');
    const letters = host.deadLetters('fragile');
    const admin = cluster().admin(await cluster().masterOf(slotOf('fragile')));
    const key = `${namespace}:dead:{fragile}`;
    while ((await letters.count()) === 0) await admin.xread('BLOCK', 5000, 'STREAMS', key, '0');
    const [letter] = await letters.list();
    expect(letter).toMatchObject({ deliveries: 2, error: expect.stringMatching(/no/) as unknown });
  });
});
