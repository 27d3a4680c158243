/**
 * Messages that come too late: replies after their ask timed out are dropped
 * and counted; asks whose deadline passed while Redis was unreachable are not
 * executed when they finally arrive.
 */
import { describe, expect, it } from 'vitest';
import { AskTimeoutError, type HealthReport } from '../../src/index.js';
import { faultScene } from './scene.js';

function setUp() {
  return faultScene({ CONCURRENCY: '10' });
}

describe('late and expired messages', () => {
  it('drops and counts a reply that comes after its ask timed out', async () => {
    const { system } = await setUp();
    await expect(system.ask('remote', 'hold', 600, { timeoutMs: 200 })).rejects.toBeInstanceOf(
      AskTimeoutError,
    );
    expect(system.stats().dropped.lateReply).toBe(0);
    // The reply comes 400 ms after the timeout; a later ask's reply comes after it.
    expect(await system.ask('remote', 'hold', 500)).toBe(500);
    expect(system.stats().dropped.lateReply).toBe(1);
  });

  it('does not execute asks whose deadline passed while Redis was not answering', async () => {
    const { redis, system } = await setUp();
    expect(await system.ask('remote', 'mark', 'on time')).toBeUndefined();

    redis.freeze();
    // Written to the frozen server's socket; it will read them only once thawed.
    const stale = ['stale 1', 'stale 2', 'stale 3'].map((body) =>
      system.ask('remote', 'mark', body, { timeoutMs: 300 }),
    );
    for (const ask of stale) await expect(ask).rejects.toBeInstanceOf(AskTimeoutError);
    // Thawed well within the health-check timeout: the connections were never dropped,
    // so Redis now delivers the three asks, past their deadline.
    redis.thaw();

    expect(await system.ask('remote', 'mark', 'after')).toBeUndefined();
    const executed = await system.ask<{ mark: unknown[] }>('remote', 'executed');
    expect(executed.mark).toEqual(['on time', 'after']);
    const health = await system.ask<HealthReport>('remote', 'health');
    expect(health.dropped.expired).toBe(3);
  });
});
