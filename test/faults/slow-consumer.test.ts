/**
 * A slow consumer under a flood: 100,000 tells a second for 10 s at an actor
 * that handles about 1,000 a second. Its memory stays bounded by the mailbox,
 * overflow is refused and counted (every tell is accounted for), it keeps
 * answering, and nothing crashes.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, type HealthReport, MailboxFullError } from '../../src/index.js';
import { captureLogger, isRunning, runTs, uniqueNamespace } from '../helpers.js';
import { startFaultRedis } from './fault-redis.js';
import { type Settlement, tally, timed } from './settle.js';

const CAPACITY = 1000;

describe('slow consumer', () => {
  it('stays bounded, counts its overflow and keeps answering under 100,000 tells/s for 10 s', async () => {
    const redis = await startFaultRedis();
    const namespace = uniqueNamespace();
    const env = { REDIS_URL: redis.url, REDIS_ACTORS_NAMESPACE: namespace };
    const consumer = runTs('test/faults/fixtures/responder.ts', ['slow'], {
      ...env,
      CAPACITY: String(CAPACITY),
    });
    await consumer.waitForLine(/^READY /);
    const system = await ActorSystem.start({ url: redis.url, namespace, logger: captureLogger() });
    onTestFinished(() => system.stop());
    const before = await system.ask<HealthReport>('slow', 'health');

    const flooder = runTs('test/faults/fixtures/flooder.ts', ['slow'], {
      ...env,
      RATE: '100000',
      DURATION_MS: '10000',
    });
    // While the flood lasts, every 250 ms: a health check and an ordinary ask.
    const health: Promise<Settlement & { report?: HealthReport }>[] = [];
    const echoes: Promise<Settlement>[] = [];
    const sampler = setInterval(() => {
      health.push(
        system.ask<HealthReport>('slow', 'health', undefined, { timeoutMs: 1000 }).then(
          (report) => ({ outcome: 'resolved', lateMs: 0, error: undefined, report }),
          (error: unknown) => ({ outcome: (error as Error).name, lateMs: 0, error }),
        ),
      );
      echoes.push(timed(() => system.ask('slow', 'echo', 'still there?'), 5000));
    }, 250);
    const line = await flooder.waitForLine(/^SENT /, 30_000);
    clearInterval(sampler);
    const flood = JSON.parse(line.slice('SENT '.length)) as {
      sent: number;
      acknowledged: number;
      failed: number;
      seconds: number;
    };

    const samples = await Promise.all(health);
    expect(tally(samples)).toEqual({ resolved: samples.length });
    const reports = samples.map((sample) => sample.report as HealthReport);
    const maxDepth = Math.max(...reports.map((report) => report.mailboxDepth));
    expect(maxDepth).toBeLessThanOrEqual(CAPACITY);
    const heapGrowthMb =
      (Math.max(...reports.map((report) => report.memory.heapUsed)) - before.memory.heapUsed) /
      2 ** 20;
    const maxRssMb = Math.max(...reports.map((report) => report.memory.rss)) / 2 ** 20;
    // Unbounded queueing would hold ~1M messages (hundreds of MB) by the end.
    expect(heapGrowthMb).toBeLessThan(64);

    // Ordinary asks are answered, or refused at once when the mailbox is full: never left to time out.
    const asked = await Promise.all(echoes);
    const outcomes = tally(asked);
    expect(
      Object.keys(outcomes).every((name) => ['resolved', 'MailboxFullError'].includes(name)),
    ).toBe(true);
    for (const each of asked) {
      if (each.outcome === 'MailboxFullError') expect(each.error).toBeInstanceOf(MailboxFullError);
    }

    // Every tell is accounted for: handled, or refused by the full mailbox and counted.
    expect(flood.failed).toBe(0);
    expect(flood.acknowledged).toBe(flood.sent);
    await expect
      .poll(
        async () => {
          const report = await system.ask<HealthReport>('slow', 'health');
          return report.mailboxDepth + report.processing;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(0);
    const after = await system.ask<HealthReport>('slow', 'health');
    const executed = await system.ask<{ work: number }>('slow', 'executed');
    const refusedEchoes = outcomes.MailboxFullError ?? 0;
    expect(after.dropped.mailboxFull).toBeGreaterThan(0);
    expect(executed.work + after.dropped.mailboxFull - refusedEchoes).toBe(flood.sent);
    expect(after.connectionLosses).toBe(0);
    expect(isRunning(consumer.pid)).toBe(true);
    console.log(
      `flood: ${flood.sent} tells in ${flood.seconds.toFixed(1)} s ` +
        `(${Math.round(flood.sent / flood.seconds)}/s); handled ${executed.work}, ` +
        `refused ${after.dropped.mailboxFull}; max depth ${maxDepth}; heap +${heapGrowthMb.toFixed(1)} MB, ` +
        `max RSS ${maxRssMb.toFixed(0)} MB; ${samples.length} health asks answered; echoes ${JSON.stringify(outcomes)}`,
    );
  });
});
