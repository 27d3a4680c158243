/**
 * Redis killed under load: with it restarted 3 s later, and with it gone for good.
 */
import { describe, expect, it } from 'vitest';
import { ActorSystem, RedisActorsError } from '../../src/index.js';
import { captureLogger, runTs, uniqueNamespace } from '../helpers.js';
import { startFaultRedis } from './fault-redis.js';
import { faultDuration, tally, timed } from './settle.js';

const RESPONDER = 'test/faults/fixtures/responder.ts';

describe('Redis killed', () => {
  it('settles each of 10,000 asks in flight exactly once, by its timeout + 100 ms, when Redis is killed and back 3 s later', async () => {
    const redis = await startFaultRedis();
    const env = { REDIS_URL: redis.url, REDIS_ACTORS_NAMESPACE: uniqueNamespace() };
    const responder = runTs(RESPONDER, ['holder'], {
      ...env,
      CAPACITY: '20000',
      CONCURRENCY: '20000',
      REPORT_HOLDING: '10000',
    });
    await responder.waitForLine(/^READY /);
    const asker = runTs('test/faults/fixtures/asks-in-flight.ts', ['holder'], {
      ...env,
      COUNT: '10000',
      TIMEOUT_MS: '8000',
      HOLD_MS: '4000',
    });
    await responder.waitForLine(/^HOLDING 10000$/);

    await redis.kill();
    await faultDuration(3000);
    await redis.restart();

    const line = await asker.waitForLine(/^REPORT /, 25_000);
    const report = JSON.parse(line.slice('REPORT '.length)) as {
      settlements: number;
      outcomes: Record<string, number>;
      maxLateMs: number;
      pendingAfter: number;
      timersBefore: number;
      timersAfter: number;
      laterAsksOk: number;
      connectionLosses: number;
    };
    expect(report.settlements).toBe(10_000);
    const outcomes = Object.keys(report.outcomes);
    expect(
      outcomes.every((name) => ['resolved', 'AskTimeoutError', 'ConnectionError'].includes(name)),
    ).toBe(true);
    expect(Object.values(report.outcomes).reduce((sum, n) => sum + n, 0)).toBe(10_000);
    // Half are held past their timeout: those time out, whatever happened to Redis.
    expect(report.outcomes.AskTimeoutError ?? 0).toBeGreaterThanOrEqual(5000);
    expect(report.maxLateMs).toBeLessThanOrEqual(100);
    expect(report.pendingAfter).toBe(0);
    expect(report.timersAfter).toBe(report.timersBefore);
    expect(report.connectionLosses).toBe(1);
    // Asks made after the restart just work.
    expect(report.laterAsksOk).toBe(20);
    expect((await asker.exited).code).toBe(0);
    await responder.waitForLine(/^RESTORED$/);
    console.log(`10k asks through a Redis kill: ${JSON.stringify(report)}`);
  });

  it('rejects every ask within its timeout + 100 ms when Redis never comes back, and stop() is prompt', async () => {
    const redis = await startFaultRedis();
    const namespace = uniqueNamespace();
    const responder = runTs(RESPONDER, ['holder'], {
      REDIS_URL: redis.url,
      REDIS_ACTORS_NAMESPACE: namespace,
      CONCURRENCY: '100',
      REPORT_HOLDING: '50',
    });
    await responder.waitForLine(/^READY /);
    const system = await ActorSystem.start({ url: redis.url, namespace, logger: captureLogger() });
    try {
      expect(await system.ask('holder', 'echo', 1)).toBe(1);
      const lost = new Promise((resolve) =>
        system.once('connection-lost', () => {
          resolve(undefined);
        }),
      );
      const inFlight = Array.from({ length: 50 }, () =>
        timed(() => system.ask('holder', 'hold', 60_000, { timeoutMs: 1500 }), 1500),
      );
      await responder.waitForLine(/^HOLDING 50$/);
      await redis.kill();
      await lost;
      const afterwards = Array.from({ length: 50 }, (_, i) =>
        timed(() => system.ask('holder', 'echo', i, { timeoutMs: 1500 }), 1500),
      );
      const settled = await Promise.all([...inFlight, ...afterwards]);
      expect(settled).toHaveLength(100);
      for (const { outcome, lateMs, error } of settled) {
        expect(error).toBeInstanceOf(RedisActorsError);
        expect(['AskTimeoutError', 'ConnectionError']).toContain(outcome);
        expect(lateMs).toBeLessThanOrEqual(100);
      }
      // Those that waited for Redis until their timeout say it was down.
      for (const { outcome, error } of settled.slice(50)) {
        if (outcome === 'AskTimeoutError') {
          expect((error as Error).message).toMatch(/connection to Redis is down/);
        }
      }
      expect(tally(settled).AskTimeoutError).toBeGreaterThan(0);
      const maxLateMs = Math.max(...settled.map((each) => each.lateMs));
      console.log(
        `Redis gone for good: 100 asks rejected, at most ${maxLateMs} ms after their timeout`,
      );
      expect(system.stats().pendingAsks).toBe(0);
    } finally {
      const started = Date.now();
      await system.stop();
      const stopMs = Date.now() - started;
      expect(stopMs).toBeLessThan(1000);
      console.log(`Redis gone for good: stop() took ${stopMs} ms`);
    }
  });
});
