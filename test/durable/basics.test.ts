/**
 * Durable mailboxes in one or two actor systems on the test Redis: messages
 * told while the actor is away wait in its stream, asks are answered by the
 * name, acknowledged entries are deleted, failures are retried and end in
 * the dead letters.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, NoRecipientError, defineActor } from '../../src/index.js';
import { rawClient, startSystem, uniqueNamespace } from '../helpers.js';

describe('durable mailboxes', () => {
  it('keeps tells sent while its actor is away, and hands them over in order once it is back', async () => {
    const namespace = uniqueNamespace();
    const sender = await startSystem({ namespace });
    const first = await startSystem({ namespace });
    const seen: number[] = [];
    let arrived: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (arrived = resolve));
    const definition = defineActor({
      handlers: {
        job: (n: number) => {
          seen.push(n);
          if (seen.length === 10) arrived();
        },
      },
    });
    const ref = await first.spawn(definition, { name: 'jobs', mailbox: { durable: true } });
    await first.stopActor(ref);
    for (let n = 0; n < 10; n++) await sender.tell('jobs', 'job', n);
    const raw = rawClient();
    expect(await raw.xlen(`${namespace}:inbox:{jobs}`)).toBe(10);
    const second = await startSystem({ namespace });
    await second.spawn(definition, { name: 'jobs', mailbox: { durable: true } });
    await all;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await second.stop();
    expect(await raw.xlen(`${namespace}:inbox:{jobs}`)).toBe(0);
  });

  it('answers asks as its name, with the delivery count and a stable id', async () => {
    const namespace = uniqueNamespace();
    const asker = await startSystem({ namespace });
    const host = await startSystem({ namespace });
    await host.spawn(
      defineActor({
        handlers: {
          echo: (body: string, ctx) => ({
            body,
            count: ctx.message.deliveryCount,
            durable: ctx.message.durable,
          }),
        },
      }),
      { name: 'echo', mailbox: { durable: true } },
    );
    expect(await asker.ask('echo', 'echo', 'hi')).toEqual({ body: 'hi', count: 1, durable: true });
    expect(await asker.ask('echo', 'echo', 'again')).toEqual({
      body: 'again',
      count: 1,
      durable: true,
    });
  });

  it('retries a tell whose handler failed and buries it after maxDeliveries, then keeps serving', async () => {
    const namespace = uniqueNamespace();
    const sender = await startSystem({ namespace });
    const host = await startSystem({ namespace });
    const deliveries: number[] = [];
    let fine: () => void = () => undefined;
    const after = new Promise<void>((resolve) => (fine = resolve));
    await host.spawn(
      defineActor({
        handlers: {
          poison: (_body: unknown, ctx) => {
            deliveries.push(ctx.message.deliveryCount);
            throw new Error('cannot digest this');
          },
          fine: () => {
            fine();
          },
        },
      }),
      { name: 'worker', mailbox: { durable: true, maxDeliveries: 3, retryDelayMs: 10 } },
    );
    await sender.tell('worker', 'poison', { n: 1 });
    const raw = rawClient();
    const dead = `${namespace}:dead:{worker}`;
    // The third failure buries it: wait on the dead-letter stream itself.
    let entries: [string, string[]][] = [];
    while (entries.length === 0) {
      const got = await raw.xread('BLOCK', 5000, 'STREAMS', dead, '0');
      entries = got?.[0]?.[1] ?? [];
    }
    expect(deliveries).toEqual([1, 2, 3]);
    const fields = entries[0]?.[1] ?? [];
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    expect(field('deliveries')).toBe('3');
    expect(field('error')).toMatch(/cannot digest this/);
    expect(field('consumer')).toMatch(/\|/);
    await sender.tell('worker', 'fine');
    await after;
    // A stop sends what is left to acknowledge before it returns.
    await host.stop();
    expect(await raw.xlen(`${namespace}:inbox:{worker}`)).toBe(0);
  });

  it('needs a name, and a name is durable or not, never both', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
    await expect(system.spawn(echo, { mailbox: { durable: true } })).rejects.toThrow(
      InvalidOptionError,
    );
    const ref = await system.spawn(echo, { name: 'kept', mailbox: { durable: true } });
    await system.stopActor(ref);
    await expect(system.spawn(echo, { name: 'kept' })).rejects.toThrow(/durable mailbox/);
    await expect(system.tell('nobody-here', 'echo')).rejects.toThrow(NoRecipientError);
  });
});
