/**
 * The bounds of a durable mailbox: its capacity is the stream's length (a
 * tell beyond it is refused to the sender by the overflow policy, counted),
 * and a consumer holds at most `concurrency` unacknowledged entries.
 */
import { describe, expect, it } from 'vitest';
import { MailboxFullError, defineActor } from '../../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from '../helpers.js';

describe('durable mailbox bounds', () => {
  it('refuses a tell beyond its capacity with MailboxFullError, or drops it when told to', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const sender = await startSystem({ namespace });
    const echo = defineActor({ handlers: { job: () => undefined } });
    await host.stopActor(
      await host.spawn(echo, { name: 'small', mailbox: { durable: true, capacity: 3 } }),
    );
    await host.stopActor(
      await host.spawn(echo, {
        name: 'lossy',
        mailbox: { durable: true, capacity: 2, overflow: 'drop' },
      }),
    );
    for (let n = 0; n < 3; n++) await sender.tell('small', 'job', n);
    await expect(sender.tell('small', 'job', 3)).rejects.toThrow(MailboxFullError);
    await expect(sender.ask('small', 'job', 4)).rejects.toThrow(MailboxFullError);
    for (let n = 0; n < 3; n++) await sender.tell('lossy', 'job', n);
    expect(sender.stats().dropped.mailboxFull).toBe(3);
    const raw = rawClient();
    expect(await raw.xlen(`${namespace}:inbox:{small}`)).toBe(3);
    expect(await raw.xlen(`${namespace}:inbox:{lossy}`)).toBe(2);
  });

  it('holds at most `concurrency` unacknowledged entries per consumer', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const sender = await startSystem({ namespace });
    const release = deferred();
    let started = 0;
    const three = deferred();
    let handled = 0;
    const all = deferred();
    await host.spawn(
      defineActor({
        handlers: {
          job: async () => {
            if (++started === 3) three.resolve();
            await release.promise;
            if (++handled === 10) all.resolve();
          },
        },
      }),
      { name: 'gated', mailbox: { durable: true, concurrency: 3 } },
    );
    for (let n = 0; n < 10; n++) await sender.tell('gated', 'job', n);
    await three.promise;
    const raw = rawClient();
    const summary = (await raw.xpending(`${namespace}:inbox:{gated}`, 'gated')) as [
      number,
      ...unknown[],
    ];
    expect(summary[0]).toBe(3);
    expect(started).toBe(3);
    release.resolve();
    await all.promise;
    await host.stop();
    expect(await raw.xlen(`${namespace}:inbox:{gated}`)).toBe(0);
  });
});
