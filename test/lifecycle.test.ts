import { describe, expect, it } from 'vitest';
import { ActorSystem, ShuttingDownError, defineActor } from '../src/index.js';
import {
  captureLogger,
  deferred,
  rawClient,
  redisUrl,
  runTs,
  startOwnRedis,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

async function subscribers(channel: string): Promise<number> {
  const [, count] = (await rawClient().pubsub('NUMSUB', channel)) as [string, number];
  return count;
}

describe('lifecycle', () => {
  it('start() resolves once the process mailbox is subscribed, spawn() once the actor is', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    expect(await subscribers(`${namespace}:${system.address}`)).toBe(1);
    const ref = await system.spawn(defineActor({ handlers: {} }), { name: 'named' });
    expect(ref.address).toBe(system.address);
    expect(await subscribers(`${namespace}:named`)).toBe(1);
    const second = await system.spawn(defineActor({ handlers: {} }));
    expect(await subscribers(`${namespace}:${second.address}`)).toBe(1);
  });

  it('await using stops the system when its block ends', async () => {
    const namespace = uniqueNamespace();
    let inside: ActorSystem | undefined;
    {
      await using system = await ActorSystem.start({
        url: redisUrl(),
        namespace,
        logger: captureLogger(),
      });
      await system.spawn(defineActor({ handlers: {} }), { name: 'scoped' });
      expect(await subscribers(`${namespace}:scoped`)).toBe(1);
      inside = system;
    }
    expect(inside.state).toBe('stopped');
    expect(await subscribers(`${namespace}:scoped`)).toBe(0);
  });

  it('stop() is idempotent, unsubscribes every mailbox and refuses further sends', async () => {
    const namespace = uniqueNamespace();
    const system = await ActorSystem.start({ url: redisUrl(), namespace });
    await system.spawn(defineActor({ handlers: {} }), { name: 'gone-soon' });
    const first = system.stop();
    expect(system.stop()).toBe(first);
    await first;
    expect(system.state).toBe('stopped');
    expect(await subscribers(`${namespace}:${system.address}`)).toBe(0);
    expect(await subscribers(`${namespace}:gone-soon`)).toBe(0);
    await expect(system.ask('gone-soon', 'x')).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(system.tell('gone-soon', 'x')).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(system.spawn(defineActor({ handlers: {} }))).rejects.toBeInstanceOf(
      ShuttingDownError,
    );
  });

  it('stop() lets the message in progress finish and refuses the ones still waiting', async () => {
    const namespace = uniqueNamespace();
    const server = await ActorSystem.start({ url: redisUrl(), namespace });
    const client = await startSystem({ namespace });
    const started = deferred();
    const release = deferred();
    await server.spawn(
      defineActor({
        handlers: {
          work: async (tag: string) => {
            started.resolve();
            await release.promise;
            return `done ${tag}`;
          },
        },
      }),
      { name: 'worker' },
    );
    const inProgress = client.ask('worker', 'work', 'first');
    const waiting = client.ask('worker', 'work', 'second');
    await started.promise;
    const stopped = server.stop();
    release.resolve();
    expect(await inProgress).toBe('done first');
    await expect(waiting).rejects.toBeInstanceOf(ShuttingDownError);
    await stopped;
    expect(server.state).toBe('stopped');
  });

  it('stop() rejects the asks this system is still waiting on with ShuttingDownError', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, stopTimeoutMs: 100 });
    const client = await ActorSystem.start({ url: redisUrl(), namespace });
    const never = deferred();
    const started = deferred();
    await server.spawn(
      defineActor({
        handlers: {
          hang: () => {
            started.resolve();
            return never.promise;
          },
        },
      }),
      { name: 'hangs' },
    );
    const pending = client
      .ask('hangs', 'hang', undefined, { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    await started.promise;
    expect(client.stats().pendingAsks).toBe(1);
    await client.stop();
    expect(await pending).toBeInstanceOf(ShuttingDownError);
    expect(client.stats().pendingAsks).toBe(0);
    never.resolve();
  });

  it('leaves no open handle: a process that used the framework exits by itself after stop()', async () => {
    const child = runTs('test/fixtures/stop-and-exit.ts', [], {
      REDIS_ACTORS_NAMESPACE: uniqueNamespace(),
    });
    const { code } = await child.exited;
    expect(child.stdout).toEqual([
      'echo hello',
      'timeout true',
      'no recipient true',
      'pending ask rejected with ShuttingDownError',
      'stopped stopped',
    ]);
    expect(code).toBe(0);
  });

  it('asks an actor in another process by name, which stops cleanly on SIGTERM', async () => {
    const namespace = uniqueNamespace();
    const child = runTs('test/fixtures/echo-actor.ts', ['echo-child'], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    const ready = await child.waitForLine(/^READY /);
    const client = await startSystem({ namespace });
    expect(await client.ask('echo-child', 'pid')).toBe(child.pid);
    expect(ready).toBe(`READY ${client.address.replace(/-\d+(\.\d+)?$/, '')}-${child.pid}`);
    expect(await client.ask(ready.slice('READY '.length), 'echo', { hi: [1, 2] })).toEqual({
      hi: [1, 2],
    });
    const slow = client.ask('echo-child', 'slow', 300);
    // Terminate while "slow" runs: it must still be answered before the child exits.
    await child.waitForLine(/^HANDLING slow$/);
    child.process.kill('SIGTERM');
    expect(await slow).toBe('slept 300');
    await child.waitForLine(/^STOPPED$/);
    expect((await child.exited).code).toBe(0);
  });

  it('stopActor() takes one actor out of service and frees its name for a new one', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    const stopped: string[] = [];
    const named = (tag: string) =>
      defineActor({
        handlers: { who: () => tag },
        onStop: () => {
          stopped.push(tag);
        },
      });
    const first = await host.spawn(named('first'), { name: 'alice' });
    await host.spawn(named('other'), { name: 'other' });
    expect(await client.ask('alice', 'who')).toBe('first');
    await host.stopActor('alice');
    expect(stopped).toEqual(['first']);
    expect(await subscribers(`${namespace}:alice`)).toBe(0);
    expect((await client.registry.list()).map((info) => info.name)).toEqual(['other']);
    const again = await host.spawn(named('second'), { name: 'bob' });
    expect(again.address).toBe(first.address);
    expect(await client.ask('bob', 'who')).toBe('second');
    expect(await client.ask('other', 'who')).toBe('other');
    await expect(host.stopActor('nobody')).rejects.toThrow(/no actor "nobody"/);
  });

  it('stop() completes when Redis has gone away, rejecting pending asks', async () => {
    const server = await startOwnRedis();
    const namespace = uniqueNamespace();
    const system = await ActorSystem.start({ url: server.url, namespace, logger: captureLogger() });
    await system.spawn(defineActor({ handlers: {} }), { name: 'orphaned' });
    const topicGone = await system.topic('t').subscribe(() => undefined);
    const lost = new Promise((resolve) =>
      system.once('connection-lost', () => {
        resolve(undefined);
      }),
    );
    await server.stop();
    await lost;
    const pending = system
      .ask('anyone', 'x', undefined, { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    await topicGone();
    await system.stop();
    expect(system.state).toBe('stopped');
    expect(await pending).toBeInstanceOf(Error);
  });
});
