/**
 * A monitor changes nothing for senders (issue 15, point 4): while
 * `system.monitor()` or `redis-actors monitor` runs, an ask to a name nobody
 * holds still fails at once with NoRecipientError (a pattern subscription
 * would count as its receiver, and the ask would wait for its timeout), and a
 * message to a durable name still reaches its mailbox (instead of being taken
 * as delivered to the pattern). On a redis-server of each test's own.
 */
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, NoRecipientError, defineActor } from '../src/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  deferred,
  redisActorsCli,
  startOwnRedis,
  uniqueNamespace,
} from './helpers.js';

/** Long enough that a wrong outcome cannot pass for the right one: the error class says. */
const LONG_TIMEOUT_MS = 30_000;

async function systemOn(url: string, namespace: string): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return system;
}

const jobs = defineActor({ handlers: { work: (n: number) => n * 2 } });

beforeAll(() => {
  assertBuildIsCurrent();
});

describe('while a monitor runs', () => {
  it('system.monitor: an ask to a name nobody holds fails with NoRecipientError, and shows', async () => {
    const redis = await startOwnRedis();
    const namespace = uniqueNamespace();
    const watcher = await systemOn(redis.url, namespace);
    const asker = await systemOn(redis.url, namespace);
    const sawAsk = deferred<string>();
    const stop = await watcher.monitor((event) => {
      if (event.envelope?.kind === 'ask' && event.envelope.to === 'nobody-here') {
        sawAsk.resolve(event.envelope.from);
      }
    });
    expect(stop.mode).toBe('monitor');
    const failure = await asker
      .ask('nobody-here', 'ping', null, { timeoutMs: LONG_TIMEOUT_MS })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NoRecipientError);
    // The monitor shows what nobody received too.
    expect(await sawAsk.promise).toBe(asker.address);
    await stop();
  }, 60_000);

  it('system.monitor: an ask to a durable name is appended and answered', async () => {
    const redis = await startOwnRedis();
    const namespace = uniqueNamespace();
    const host = await systemOn(redis.url, namespace);
    await host.spawn(jobs, { name: 'jobs', mailbox: { durable: true } });
    const watcher = await systemOn(redis.url, namespace);
    const stop = await watcher.monitor(() => undefined);
    // A fresh sender does not know "jobs" is durable: it publishes first, and
    // appends only when the publish reached nobody.
    const sender = await systemOn(redis.url, namespace);
    expect(await sender.ask('jobs', 'work', 21, { timeoutMs: LONG_TIMEOUT_MS })).toBe(42);
    await stop();
  }, 60_000);

  it('redis-actors monitor: an ask to a name nobody holds fails with NoRecipientError, and shows', async () => {
    const redis = await startOwnRedis();
    const namespace = uniqueNamespace();
    const monitor = redisActorsCli(['monitor', '--json'], namespace, { REDIS_URL: redis.url });
    await monitor.waitForLine(/^monitoring namespace/);
    await monitor.waitForLine(/^watching with Redis MONITOR/);
    const asker = await systemOn(redis.url, namespace);
    const failure = await asker
      .ask('nobody-here', 'ping', null, { timeoutMs: LONG_TIMEOUT_MS })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NoRecipientError);
    const line = await monitor.waitForLine(/"kind":"ask"/);
    expect(JSON.parse(line)).toMatchObject({
      kind: 'ask',
      from: asker.address,
      to: 'nobody-here',
      type: 'ping',
    });
    // npx itself dies of the SIGINT, as at a terminal: its exit code says nothing here.
    monitor.signalGroup('SIGINT');
    await monitor.exited;
  }, 60_000);
});
