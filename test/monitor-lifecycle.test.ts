/**
 * The MONITOR connection's life: it reconnects after being cut (CLIENT KILL of
 * its id) and shows traffic again; a callback that throws is counted as
 * `listener-threw` and the next event still arrives; it closes when its
 * handle is called, and when its system stops without that. On a
 * redis-server of each test's own.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, type MonitorEvent } from '../src/index.js';
import { captureLogger, deferred, startOwnRedis, uniqueNamespace } from './helpers.js';

async function setUp() {
  const redis = await startOwnRedis();
  const admin = new Redis({ path: redis.socketPath });
  onTestFinished(() => {
    admin.disconnect();
  });
  const logger = captureLogger();
  const namespace = uniqueNamespace();
  const watcher = await ActorSystem.start({ url: redis.url, namespace, logger });
  onTestFinished(() => watcher.stop());
  return { admin, watcher, namespace, logger };
}

/** Names of the server's MONITOR clients (CLIENT LIST TYPE … has no `monitor`: flags say it). */
async function monitorClients(admin: Redis): Promise<string[]> {
  const list = String(await admin.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((line) => / flags=\S*O/.test(line))
    .map((line) => / name=(\S*)/.exec(line)?.[1] ?? '');
}

/** Polls `condition` (a state of a server or counter of our own; nothing to subscribe to). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('the MONITOR connection', () => {
  it('reconnects after CLIENT KILL and shows traffic again; the loss is counted and logged', async () => {
    const { admin, watcher, namespace, logger } = await setUp();
    const seen: MonitorEvent[] = [];
    let next = deferred<MonitorEvent>();
    const stop = await watcher.monitor((event) => {
      seen.push(event);
      next.resolve(event);
    });
    expect(await monitorClients(admin)).toEqual([`${namespace}:${watcher.address}:monitor`]);
    await admin.publish(`${namespace}:a`, 'before');
    expect((await next.promise).text).toBe('before');
    const id = /^id=(\d+) .* flags=\S*O/m.exec(String(await admin.call('CLIENT', 'LIST')))?.[1];
    expect(await admin.call('CLIENT', 'KILL', 'ID', id ?? '')).toBe(1);
    await until(() => stop.stats().connectionLosses === 1 && stop.stats().connected);
    next = deferred<MonitorEvent>();
    await admin.publish(`${namespace}:a`, 'after');
    expect((await next.promise).text).toBe('after');
    expect(logger.lines.some((line) => /MONITOR connection is down, reconnecting/.test(line))).toBe(
      true,
    );
    await stop();
    await until(async () => (await monitorClients(admin)).length === 0);
  });

  it('a callback that throws: counted as listener-threw, the next event still arrives', async () => {
    const { admin, watcher, namespace } = await setUp();
    const after = deferred<string | undefined>();
    const stop = await watcher.monitor((event) => {
      if (event.text === 'boom') throw new Error('a careless callback');
      after.resolve(event.text);
    });
    await admin.publish(`${namespace}:a`, 'boom');
    await admin.publish(`${namespace}:a`, 'next');
    expect(await after.promise).toBe('next');
    expect(watcher.stats().invalidByReason['listener-threw']).toBe(1);
    await stop();
  });

  it('closes when its system stops, without its handle being called', async () => {
    const { admin, watcher } = await setUp();
    await watcher.monitor(() => undefined);
    expect(await monitorClients(admin)).toHaveLength(1);
    await watcher.stop();
    await until(async () => (await monitorClients(admin)).length === 0);
  });
});
