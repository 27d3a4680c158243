import { describe, expect, it } from 'vitest';
import {
  AskTimeoutError,
  MailboxFullError,
  NoRecipientError,
  RemoteError,
  UnknownMessageTypeError,
  defineActor,
} from '../src/index.js';
import { deferred, startSystem, uniqueNamespace } from './helpers.js';

class OrderError extends Error {
  code = 'E_ORDER';
  override name = 'OrderError';
}

function recorder() {
  const seen: unknown[] = [];
  const definition = defineActor({
    handlers: {
      record: (body: unknown) => {
        seen.push(body);
      },
      seen: () => seen.length,
      echo: (body: unknown) => body,
      fail: (): never => {
        throw new OrderError('order 42 is already shipped');
      },
      greet: (name: string, ctx) => `hello ${name}, from ${ctx.self} to ${ctx.sender}`,
    },
  });
  return { seen, definition };
}

async function pair() {
  const namespace = uniqueNamespace();
  const server = await startSystem({ namespace });
  const client = await startSystem({ namespace });
  const { seen, definition } = recorder();
  const ref = await server.spawn(definition, { name: 'recorder' });
  return { server, client, seen, ref, typed: client.ref<typeof definition>(ref.address) };
}

describe('tell and ask between two actor systems', () => {
  it('delivers a tell', async () => {
    const { client, seen, ref } = await pair();
    await client.tell(ref.address, 'record', { n: 1 });
    expect(await client.ask(ref.address, 'seen')).toBe(1);
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('answers an ask with the handler result, with sender and self in the context', async () => {
    const { client, server, typed } = await pair();
    const reply: string = await typed.ask('greet', 'ada');
    expect(reply).toBe(`hello ada, from ${server.address} to ${client.address}`);
  });

  it('reaches an actor by name as well as by address', async () => {
    const { client } = await pair();
    expect(await client.ask('recorder', 'echo', 'by name')).toBe('by name');
  });

  it('gives each actor of a process its own address derived from the process address', async () => {
    const { server } = await pair();
    const second = await server.spawn(recorder().definition, { name: 'second' });
    const third = await server.spawn(recorder().definition);
    expect(second.address).toBe(`${server.address}/second`);
    expect(third.address).toBe(`${server.address}/actor-1`);
    expect(await server.ask(third.address, 'echo', 3)).toBe(3);
  });

  it('rejects an unanswered ask with AskTimeoutError', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, stopTimeoutMs: 100 });
    const client = await startSystem({ namespace });
    const never = deferred();
    await server.spawn(defineActor({ handlers: { wait: () => never.promise } }), {
      name: 'silent',
    });
    const error = await client
      .ask('silent', 'wait', undefined, { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AskTimeoutError);
    expect((error as AskTimeoutError).message).toMatch(/no reply within 200 ms/);
    expect(client.stats().pendingAsks).toBe(0);
    never.resolve();
  });

  it('with askStackTraces, a timed-out ask says where it was made', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, stopTimeoutMs: 100 });
    const never = deferred();
    await server.spawn(defineActor({ handlers: { wait: () => never.promise } }), {
      name: 'silent',
    });
    const traced = await startSystem({ namespace, askStackTraces: true });
    const plain = await startSystem({ namespace });
    const askSilent = (system: typeof traced) =>
      system.ask('silent', 'wait', undefined, { timeoutMs: 100 }).then(
        () => new Error('answered'),
        (e: unknown) => e as Error,
      );
    const [withTrace, without] = await Promise.all([askSilent(traced), askSilent(plain)]);
    expect(withTrace.stack).toContain('-- the ask was made:');
    expect(withTrace.stack).toContain('ask-tell.test.ts');
    expect(without.stack).not.toContain('-- the ask was made:');
    never.resolve();
  });

  it('fails fast with NoRecipientError when nobody listens, long before the timeout', async () => {
    const client = await startSystem({ namespace: uniqueNamespace() });
    const error = await client
      .ask('nobody-here', 'ping', undefined, { timeoutMs: 600_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoRecipientError);
    expect((error as Error).message).toContain('nobody-here');
    await expect(client.tell('nobody-here', 'ping')).rejects.toBeInstanceOf(NoRecipientError);
    expect(client.stats().dropped.deadLetter).toBe(1);
  });

  it('turns a handler exception into RemoteError with name, message, code and stack', async () => {
    const { client, ref } = await pair();
    const error = await client.ask(ref.address, 'fail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.remoteName).toBe('OrderError');
    expect(remote.remoteMessage).toBe('order 42 is already shipped');
    expect(remote.remoteCode).toBe('E_ORDER');
    expect(remote.remoteStack).toContain('ask-tell.test.ts');
    expect(remote.message).toContain('OrderError: order 42 is already shipped');
    // The actor keeps serving after a failure.
    expect(await client.ask(ref.address, 'echo', 'still here')).toBe('still here');
  });

  it('answers an unknown message type with UnknownMessageTypeError and counts unknown tells', async () => {
    const { client, server, ref } = await pair();
    const error = await client.ask(ref.address, 'dance').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownMessageTypeError);
    expect((error as Error).message).toContain('record, seen, echo, fail, greet');
    await client.tell(ref.address, 'dance');
    expect(await client.ask(ref.address, 'seen')).toBe(0);
    expect(server.stats().dropped.unknownType).toBe(1);
  });

  it('round-trips Date, Map, Set, BigInt, undefined, nested values and typed errors', async () => {
    const { client, ref } = await pair();
    const error = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    const body = {
      when: new Date('2024-02-29T12:34:56.789Z'),
      map: new Map<string, unknown>([
        ['a', 1],
        ['nested', new Set([1n, 2n])],
      ]),
      set: new Set(['x', 'y']),
      big: 12345678901234567890n,
      missing: undefined,
      list: [1, undefined, { deep: { deeper: [new Date(0)] } }],
      regex: /re+dis/gi,
      error,
      typed: new MailboxFullError('somewhere', 7),
      unicode: 'héllo ✓ 日本',
      special: [NaN, Infinity, -0],
    };
    const back = await client.ask<typeof body>(ref.address, 'echo', body);
    expect(back.when).toEqual(body.when);
    expect(back.map).toEqual(body.map);
    expect(back.set).toEqual(body.set);
    expect(back.big).toBe(body.big);
    expect(back).toHaveProperty('missing', undefined);
    expect(back.list).toEqual(body.list);
    expect(back.regex).toEqual(body.regex);
    expect(back.error).toBeInstanceOf(Error);
    expect(back.error.message).toBe('disk full');
    expect(back.error.code).toBe('ENOSPC');
    expect(back.typed).toBeInstanceOf(MailboxFullError);
    expect(back.typed.capacity).toBe(7);
    expect(back.unicode).toBe(body.unicode);
    expect(Object.is(back.special[2], -0)).toBe(true);
    expect(back.special.slice(0, 2)).toEqual([NaN, Infinity]);
  });

  it('delivers 10,000 tells from one sender in order', async () => {
    const { client, seen, ref } = await pair();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) sends.push(client.tell(ref.address, 'record', i));
    await Promise.all(sends);
    // The ask queues behind every tell in the same mailbox, so it answers after the last one.
    expect(await client.ask(ref.address, 'seen')).toBe(10_000);
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it('gives each of 1,000 concurrent asks its own reply', async () => {
    const { typed } = await pair();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => typed.ask('echo', { i, tag: `ask-${i}` })),
    );
    replies.forEach((reply, i) => {
      expect(reply).toEqual({ i, tag: `ask-${i}` });
    });
  });

  it('handles messages one at a time in arrival order by default, or concurrently when configured', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    let running = 0;
    let peak = 0;
    const busy = defineActor({
      handlers: {
        work: async (gate: number) => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve, gate));
          running--;
          return peak;
        },
      },
    });
    await server.spawn(busy, { name: 'serial' });
    await Promise.all(Array.from({ length: 20 }, () => client.ask('serial', 'work', 1)));
    expect(peak).toBe(1);
    peak = 0;
    await server.spawn(busy, { name: 'parallel', mailbox: { concurrency: 4 } });
    await Promise.all(Array.from({ length: 20 }, () => client.ask('parallel', 'work', 1)));
    expect(peak).toBe(4);
  });

  it('bounds the mailbox: overflow asks get MailboxFullError, and are counted', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, stopTimeoutMs: 100 });
    const client = await startSystem({ namespace });
    const gate = deferred();
    await server.spawn(defineActor({ handlers: { hold: () => gate.promise } }), {
      name: 'tiny',
      mailbox: { capacity: 2 },
    });
    // One runs, two wait, the rest overflow.
    const asks = Array.from({ length: 6 }, () =>
      client.ask('tiny', 'hold').then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    const full = await Promise.race(asks);
    expect(full).toBeInstanceOf(MailboxFullError);
    gate.resolve();
    const results = await Promise.all(asks);
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r instanceof MailboxFullError)).toHaveLength(3);
    expect(server.stats().dropped.mailboxFull).toBe(3);
  });

  it("drops overflow silently under the 'drop' policy, counting it", async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, stopTimeoutMs: 100 });
    const client = await startSystem({ namespace });
    const gate = deferred();
    const handled: number[] = [];
    await server.spawn(
      defineActor({
        handlers: {
          hold: () => gate.promise,
          add: (n: number) => {
            handled.push(n);
          },
          count: () => handled.length,
        },
      }),
      { name: 'dropper', mailbox: { capacity: 3, overflow: 'drop' } },
    );
    await server.spawn(defineActor({ handlers: { ping: () => 'pong' } }), { name: 'probe' });
    const held = client.ask('dropper', 'hold');
    for (let n = 0; n < 10; n++) await client.tell('dropper', 'add', n);
    // Same publisher, same subscriber connection: once the probe answers, every tell was offered.
    expect(await client.ask('probe', 'ping')).toBe('pong');
    gate.resolve();
    await held;
    expect(await client.ask('dropper', 'count')).toBe(3);
    expect(handled).toEqual([0, 1, 2]);
    expect(server.stats().dropped.mailboxFull).toBe(7);
  });
});
