import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { NameTakenError, defineActor } from '../src/index.js';
import { runTs, startSystem, uniqueNamespace } from './helpers.js';

const idle = defineActor({ handlers: { ping: () => 'pong' } });

/** Polls `check` until it holds; for conditions that only time can bring (a TTL). */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('registry', () => {
  it('lists live actors with name, address, host, pid, start and heartbeat times', async () => {
    const namespace = uniqueNamespace();
    const a = await startSystem({ namespace });
    const b = await startSystem({ namespace });
    const before = Date.now();
    await a.spawn(idle, { name: 'alpha' });
    await b.spawn(idle);
    const list = await a.registry.list();
    expect(list.map(({ name, address, host, pid }) => ({ name, address, host, pid }))).toEqual([
      { name: 'alpha', address: a.address, host: os.hostname(), pid: process.pid },
      { name: undefined, address: b.address, host: os.hostname(), pid: process.pid },
    ]);
    for (const info of list) {
      expect(info.startedAt).toBeGreaterThanOrEqual(before);
      expect(info.lastHeartbeat).toBeGreaterThanOrEqual(info.startedAt);
    }
    expect(await b.registry.lookup('alpha')).toMatchObject({ address: a.address });
  });

  it('removes the actors of a system that stops cleanly at once', async () => {
    const namespace = uniqueNamespace();
    const observer = await startSystem({ namespace });
    const leaving = await startSystem({ namespace });
    await leaving.spawn(idle, { name: 'leaving' });
    expect((await observer.registry.list()).map((info) => info.name)).toEqual(['leaving']);
    await leaving.stop();
    expect(await observer.registry.list()).toEqual([]);
  });

  it('forgets a process killed with -9 once its presence expires', async () => {
    const namespace = uniqueNamespace();
    const observer = await startSystem({ namespace });
    const child = runTs('test/fixtures/echo-actor.ts', ['doomed'], {
      REDIS_ACTORS_NAMESPACE: namespace,
      PRESENCE_TTL_MS: '800',
    });
    await child.waitForLine(/^READY /);
    expect(await observer.registry.lookup('doomed')).toMatchObject({ pid: child.pid });
    child.process.kill('SIGKILL');
    await eventually(async () => (await observer.registry.lookup('doomed')) === undefined, 5000);
  });

  it('refuses a second live actor with a name already in use', async () => {
    const namespace = uniqueNamespace();
    const first = await startSystem({ namespace });
    const second = await startSystem({ namespace });
    await first.spawn(idle, { name: 'only-one' });
    await expect(second.spawn(idle, { name: 'only-one' })).rejects.toBeInstanceOf(NameTakenError);
    expect(await second.ask('only-one', 'ping')).toBe('pong');
    await first.stop();
    await second.spawn(idle, { name: 'only-one' });
    expect((await second.registry.lookup('only-one'))?.address).toBe(second.address);
  });
});
