import { describe, expect, it } from 'vitest';
import {
  MessageTooLargeError,
  type MonitorEvent,
  NoRecipientError,
  defineActor,
} from '../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from './helpers.js';

describe('topics, keys and commands', () => {
  it('broadcasts plain JSON to every subscriber, including values a raw Redis client published', async () => {
    const namespace = uniqueNamespace();
    const a = await startSystem({ namespace });
    const b = await startSystem({ namespace });
    const topic = a.topic<{ name: string; message: string }>('chat.lobby');
    expect(topic.channel).toBe(`${namespace}:topic:chat.lobby`);
    const seenByA: unknown[] = [];
    const seenByB: unknown[] = [];
    const invalid: string[] = [];
    const lastSeenByB = deferred();
    await topic.subscribe((value) => seenByA.push(value));
    const unsubscribeB = await b.topic<{ message: string }>('chat.lobby').subscribe(
      (value) => {
        seenByB.push(value);
        if (value.message === 'last') lastSeenByB.resolve();
      },
      (_raw, problem) => invalid.push(problem),
    );
    expect(await b.topic('chat.lobby').publish({ name: 'ann', message: 'hé ✓' })).toBe(2);
    expect(await rawClient().publish(topic.channel, '{"name":"bob","message":"hi"}')).toBe(2);
    expect(await rawClient().publish(topic.channel, 'garbage {')).toBe(2);
    await topic.publish({ name: 'ann', message: 'last' });
    await lastSeenByB.promise;
    expect(seenByB).toEqual([
      { name: 'ann', message: 'hé ✓' },
      { name: 'bob', message: 'hi' },
      { name: 'ann', message: 'last' },
    ]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^not JSON/);
    await unsubscribeB();
    expect(await topic.publish({ name: 'x', message: 'y' })).toBe(1);
    await expect(b.topic('nobody.here').publishToSomeone({})).rejects.toBeInstanceOf(
      NoRecipientError,
    );
  });

  it('refuses to publish a topic value over the size limit', async () => {
    const system = await startSystem({ namespace: uniqueNamespace(), maxMessageBytes: 1024 });
    await expect(system.topic('big').publish('x'.repeat(2000))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
  });

  it('builds namespaced keys and runs commands on them', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const key = system.key('chat', 'lobby', 'history');
    expect(key).toBe(`${namespace}:chat:lobby:history`);
    expect(await system.command(['RPUSH', key, 'a', 'b'])).toBe(2);
    const items = (await system.command(['LRANGE', key, '0', '-1'])) as Buffer[];
    expect(items.map(String)).toEqual(['a', 'b']);
    expect(() => system.key('chat', '')).toThrow(/invalid key part/);
    expect(() => system.key('mail', 'inbox:a', 'b')).toThrow(/without spaces, ':'/);
    for (const refused of [
      ['BLPOP', key, '0'],
      ['MULTI'],
      ['SUBSCRIBE', 'x'],
      ['XREAD', 'BLOCK', '0', 'STREAMS', key, '$'],
    ]) {
      await expect(system.command(refused)).rejects.toThrow(/cannot run on the shared connection/);
    }
  });

  it('monitors every message of the namespace, decoded', async () => {
    const namespace = uniqueNamespace();
    const watcher = await startSystem({ namespace });
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
      name: 'echo',
    });
    const events: MonitorEvent[] = [];
    const sawReply = deferred();
    const stop = await watcher.monitor((event) => {
      events.push(event);
      if (event.envelope?.kind === 'reply') sawReply.resolve();
    });
    await client.ask('echo', 'echo', { n: 1 });
    await sawReply.promise;
    await stop();
    const [ask, reply] = events;
    expect(ask?.envelope).toMatchObject({
      kind: 'ask',
      type: 'echo',
      to: 'echo',
      from: client.address,
    });
    expect(ask?.target).toBe('echo');
    expect(reply?.envelope).toMatchObject({ kind: 'reply', correlationId: ask?.envelope?.id });
    expect(reply?.target).toBe(client.address);
    expect(reply?.size).toBeGreaterThan(0);
  });
});
