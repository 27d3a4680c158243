/**
 * Presence costs Redis per process, not per actor: one process's actors are
 * kept alive by one script per presence interval whatever their number
 * (counted by Redis, on a redis-server of this test's own); and a dead
 * process's names and entries stop counting once its address claim expires.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, NameTakenError, defineActor } from '../src/index.js';
import {
  captureLogger,
  rawClient,
  runTs,
  startOwnRedis,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls of each command Redis ran so far (INFO commandstats: commands run by scripts too). */
async function commandCalls(raw: Redis): Promise<Map<string, number>> {
  const info = await raw.info('commandstats');
  const calls = new Map<string, number>();
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(name ?? '', Number(count));
  }
  return calls;
}

/** The commands Redis ran during `ms`, but the INFO that counted them. */
async function commandsDuring(raw: Redis, ms: number) {
  const before = await commandCalls(raw);
  await sleep(ms);
  const after = await commandCalls(raw);
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, count] of after) {
    // The first INFO is counted by the second (a command is counted once it ran).
    const ran = count - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (ran === 0) continue;
    byCommand[name] = ran;
    total += ran;
  }
  return { total, byCommand };
}

describe('the cost of presence', () => {
  it('one process with 1,000 named actors: the same few commands per presence interval as with 1', async () => {
    const server = await startOwnRedis();
    const raw = new Redis({ path: server.socketPath });
    onTestFinished(() => {
      raw.disconnect();
    });
    await raw.ping();
    const intervalMs = 200;
    const intervals = 10;
    const system = await ActorSystem.start({
      url: server.url,
      namespace: uniqueNamespace(),
      logger: captureLogger(),
      presenceIntervalMs: intervalMs,
      presenceTtlMs: 2000,
    });
    onTestFinished(() => system.stop());
    await system.spawn(echo, { name: 'actor-0' });
    const one = await commandsDuring(raw, intervals * intervalMs);
    for (let i = 1; i < 1000; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, 1000 - i) }, (_, j) =>
          system.spawn(echo, { name: `actor-${i + j}` }),
        ),
      );
    }
    expect(await system.registry.list()).toHaveLength(1000);
    const thousand = await commandsDuring(raw, intervals * intervalMs);
    // Per interval: EVALSHA and, inside it, GETRANGE and PEXPIRE of the address claim.
    // Besides: each of the two connections' health-check PING, at most once a second.
    const pings = 2 * Math.ceil((intervals * intervalMs) / 1000 + 1);
    const most = (intervals + 1) * 3 + pings;
    expect(one.total, JSON.stringify(one.byCommand)).toBeLessThanOrEqual(most);
    expect(thousand.total, JSON.stringify(thousand.byCommand)).toBeLessThanOrEqual(most);
    // The refresh ran (presence is kept), and nothing was sent per actor.
    expect(thousand.byCommand.evalsha ?? 0).toBeGreaterThanOrEqual(intervals - 2);
    expect(Object.keys(thousand.byCommand).sort()).toEqual(
      expect.arrayContaining(['evalsha', 'getrange', 'pexpire']),
    );
    expect(thousand.byCommand.hset ?? 0).toBe(0);
  });

  it('a process killed with -9: its actors are not looked up, and its names are free, once its claim expires', async () => {
    const namespace = uniqueNamespace();
    const observer = await startSystem({ namespace });
    const ttlMs = 1000;
    const child = runTs('test/fixtures/many-actors.ts', ['doomed'], {
      REDIS_ACTORS_NAMESPACE: namespace,
      PRESENCE_TTL_MS: String(ttlMs),
      COUNT: '3',
    });
    const address = (await child.waitForLine(/^READY /)).slice('READY '.length);
    const names = ['doomed-0', 'doomed-1', 'doomed-2'];
    for (const name of names) {
      expect(await observer.registry.lookup(name)).toMatchObject({ pid: child.pid, name });
    }
    expect(await observer.registry.lookup(`${address}/doomed-1`)).toMatchObject({
      name: 'doomed-1',
    });
    expect((await observer.registry.claimOf('doomed-2')).owner).toBe(`${address}/doomed-2`);
    // While it lives, its names are taken.
    await expect(observer.spawn(echo, { name: 'doomed-1' })).rejects.toBeInstanceOf(NameTakenError);
    child.process.kill('SIGKILL');
    await child.exited;
    const killedAt = Date.now();
    // Its name claims stay in Redis (kept for a day), but count for nothing once the
    // address claim, the one key its process refreshed, is gone.
    const raw = rawClient();
    await expect
      .poll(() => raw.exists(`${namespace}:name:{${address}}`), { timeout: 3 * ttlMs })
      .toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(ttlMs + 500);
    expect(String(await raw.get(`${namespace}:name:{doomed-0}`))).toMatch(/^\S+\|/);
    for (const name of names) expect(await observer.registry.lookup(name)).toBeUndefined();
    expect(await observer.registry.lookup(address)).toBeUndefined();
    expect(await observer.registry.list()).toEqual([]);
    expect(await observer.registry.claimOf('doomed-2')).toEqual({
      owner: undefined,
      releasedBy: undefined,
    });
    // So another process claims them at once.
    const successor = await startSystem({ namespace });
    await successor.spawn(echo);
    for (const name of names) await successor.spawn(echo, { name });
    for (const name of names) {
      expect((await observer.registry.lookup(name))?.address).toBe(`${successor.address}/${name}`);
      expect(await observer.ask(name, 'echo', name)).toBe(name);
    }
  });
});
