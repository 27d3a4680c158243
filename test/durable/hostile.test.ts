/**
 * A stranger with write access to a durable mailbox's stream: entries without
 * a payload, with garbage, too large, replies, messages for another name, a
 * deleted consumer group. Each bad entry is buried in the dead letters with
 * its reason (never read into the process when too large), counted, and the
 * actor goes on serving.
 */
import { describe, expect, it } from 'vitest';
import { InvalidMessageError, defineActor } from '../../src/index.js';
import { PayloadAuth } from '../../src/wire/payload-auth.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from '../helpers.js';

describe('a durable mailbox fed by a stranger', () => {
  it('buries malformed, oversized and misaddressed entries with their reason, and keeps serving', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace, maxMessageBytes: 64 * 1024 });
    const sender = await startSystem({ namespace });
    const handled: number[] = [];
    const fifth = deferred();
    await host.spawn(
      defineActor({
        handlers: {
          job: (n: number) => {
            handled.push(n);
            if (handled.length === 2) fifth.resolve();
          },
        },
      }),
      { name: 'jobs', mailbox: { durable: true } },
    );
    const raw = rawClient();
    const stream = `${namespace}:inbox:{jobs}`;
    await sender.tell('jobs', 'job', 1);
    const noPayload = await raw.xadd(stream, '*', 'x', 'no payload field');
    const notJson = await raw.xadd(stream, '*', 'm', 'not json at all');
    // Far above maxMessageBytes: the script buries it, the process never reads it.
    const oversized = await raw.xadd(stream, '*', 'm', Buffer.alloc(8 * 1024 * 1024, 0x61));
    const otherName = await raw.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({
        v: 1,
        kind: 'tell',
        id: 'x.1',
        from: 'stranger',
        to: 'other-name',
        type: 'job',
        sentAt: Date.now(),
        body: 3,
      }),
    );
    const reply = await raw.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({
        v: 1,
        kind: 'reply',
        id: 'x.2',
        from: 'stranger',
        to: 'jobs',
        correlationId: 'a.1.b',
        sentAt: Date.now(),
        body: 4,
      }),
    );
    await sender.tell('jobs', 'job', 2);
    await fifth.promise;
    expect(handled).toEqual([1, 2]);
    const rssBefore = process.memoryUsage().rss;
    const dead = (await raw.xrange(`${namespace}:dead:{jobs}`, '-', '+')) as [string, string[]][];
    const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
    const reasonOf = new Map(
      dead.map(([, fields]) => [field(fields, 'entry'), field(fields, 'error')]),
    );
    expect(reasonOf.size).toBe(5);
    expect(reasonOf.get(noPayload ?? '')).toBe('no-payload');
    expect(reasonOf.get(notJson ?? '')).toMatch(/^not-json/);
    expect(reasonOf.get(oversized ?? '')).toBe('oversized');
    expect(reasonOf.get(otherName ?? '')).toMatch(/^not-for-mailbox/);
    expect(reasonOf.get(reply ?? '')).toMatch(/^not-for-mailbox/);
    const buriedOversized = dead.find(([, fields]) => field(fields, 'entry') === oversized);
    // The oversized entry is kept without its content.
    expect(buriedOversized?.[1]).not.toContain('m');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    const refused = host.stats().dropped.invalid;
    expect(refused).toBeGreaterThanOrEqual(3);
    await host.stop();
    expect(await raw.xlen(stream)).toBe(0);
  });

  it('creates its stream and group again when a stranger deletes them', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const sender = await startSystem({ namespace });
    const got = deferred<string>();
    await host.spawn(
      defineActor({
        handlers: {
          job: (body: string) => {
            got.resolve(body);
          },
        },
      }),
      {
        name: 'jobs',
        mailbox: { durable: true },
      },
    );
    const raw = rawClient();
    await raw.del(`${namespace}:inbox:{jobs}`);
    // The settings say durable, the stream is gone: the append makes a stream without the group;
    // the reader's NOGROUP makes it declare the group again, from the start of the stream.
    await sender.tell('jobs', 'job', 'after the deletion');
    expect(await got.promise).toBe('after the deletion');
  });

  it('with a namespace secret, buries unsigned and forged entries, deeply nested bodies and planted once marks', async () => {
    const namespace = uniqueNamespace();
    const secret = 'base64:' + Buffer.alloc(32, 7).toString('base64');
    const host = await startSystem({ namespace, auth: { secret } });
    const sender = await startSystem({ namespace, auth: { secret } });
    const got = deferred<unknown>();
    const onceResult = deferred<unknown>();
    await host.spawn(
      defineActor({
        handlers: {
          job: (body: unknown) => {
            got.resolve(body);
          },
          effect: async (_body: unknown, ctx) => {
            onceResult.resolve(
              await ctx.once('planted', () => 'ran').catch((error: unknown) => error),
            );
          },
        },
      }),
      { name: 'jobs', mailbox: { durable: true, maxDeliveries: 1 } },
    );
    const raw = rawClient();
    const stream = `${namespace}:inbox:{jobs}`;
    const envelope = (id: string, body: unknown) =>
      JSON.stringify({
        v: 1,
        kind: 'tell',
        id,
        from: 'host-1',
        to: 'jobs',
        type: 'job',
        sentAt: Date.now(),
        body,
      });
    // Unsigned, and signed with a MAC that is not the secret's.
    const unsigned = await raw.xadd(stream, '*', 'm', envelope('x.1', 'forged'));
    const forged = await raw.xadd(
      stream,
      '*',
      'm',
      `RAS1.${'A'.repeat(43)}.${envelope('x.2', 'forged')}`,
    );
    // A body nested far deeper than maxNestingDepth, signed with the secret.
    const deep = `${'['.repeat(5000)}"bottom"${']'.repeat(5000)}`;
    const deepText = envelope('x.3', 'placeholder').replace('"placeholder"', deep);
    const signed = new PayloadAuth(Buffer.alloc(32, 7)).signText(`${namespace}:jobs`, deepText);
    const tooDeep = await raw.xadd(stream, '*', 'm', signed);
    await raw.set(`${namespace}:once:{jobs}:planted`, 'x'.repeat(10_000));
    await sender.tell('jobs', 'effect');
    await sender.tell('jobs', 'job', 'genuine');
    expect(await got.promise).toBe('genuine');
    expect(await onceResult.promise).toBeInstanceOf(InvalidMessageError);
    const dead = (await raw.xrange(`${namespace}:dead:{jobs}`, '-', '+')) as [string, string[]][];
    const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
    const reasonOf = new Map(
      dead.map(([, fields]) => [field(fields, 'entry'), field(fields, 'error')]),
    );
    expect(reasonOf.get(unsigned ?? '')).toMatch(/^unsigned/);
    expect(reasonOf.get(forged ?? '')).toMatch(/^bad-mac/);
    expect(reasonOf.get(tooDeep ?? '')).toMatch(/^too-deep/);
    expect(host.stats().dropped.invalid).toBeGreaterThanOrEqual(2);
  });
});
