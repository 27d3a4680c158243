/**
 * Maps keyed by wire data stay bounded, and logs stay short and honest,
 * whatever a stranger sends: 100,000 tells of distinct 2,000-character
 * unknown message types, some with newlines that try to forge log lines.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type SystemStats } from '../../src/index.js';
import { rawClient, runCommand, startSystem, uniqueNamespace } from '../helpers.js';

const TELLS = 100_000;
const PER_ROUND = 2000;
/** Heap a receiver may keep after the flood: the dedupe sets (≤ 100,000 ids) and bounded maps. */
const HEAP_GROWTH_BOUND = 32 * 1024 * 1024;

describe('bounded bookkeeping', () => {
  it('100,000 distinct unknown types: heap bounded, a few log lines, none forged', async () => {
    const namespace = uniqueNamespace();
    const target = runCommand(
      process.execPath,
      ['--expose-gc', '--conditions=source', '--import', 'tsx', 'test/hostile/fixtures/target.ts'],
      { REDIS_ACTORS_NAMESPACE: namespace, REDIS_ACTORS_LOG: 'warn' },
    );
    await target.waitForLine(/^READY /);
    const client = await startSystem({ namespace });
    type Memory = { heapUsed: number; rss: number };
    // Warm the paths measured below, then take the baseline.
    await client.ask('target', 'memory');
    const before = await client.ask<Memory>('target', 'memory');
    const raw = rawClient();
    const channel = `${namespace}:target`;
    for (let round = 0; round < TELLS / PER_ROUND; round++) {
      const pipeline = raw.pipeline();
      for (let i = round * PER_ROUND; i < (round + 1) * PER_ROUND; i++) {
        const forge = i % 1000 === 0 ? '\n[redis-actors] error: forged line' : '';
        const type = `t${i}${forge}`.padEnd(2000, 'x');
        pipeline.publish(
          channel,
          JSON.stringify({
            v: PROTOCOL_VERSION,
            id: `stranger-${i}`,
            kind: 'tell',
            from: 'stranger',
            to: 'target',
            type,
            sentAt: Date.now(),
          }),
        );
      }
      await pipeline.exec();
      // Through the same mailbox: once answered, the round was handled.
      await client.ask('target', 'count');
    }
    const after = await client.ask<Memory>('target', 'memory');
    const stats = await client.ask<SystemStats>('target', 'stats');
    expect(stats.dropped.unknownType).toBe(TELLS);
    expect(stats.connectionLosses).toBe(0);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(HEAP_GROWTH_BOUND);
    const logged = target.lines.filter((line) => line.startsWith('[redis-actors]'));
    expect(logged.length).toBeLessThanOrEqual(3);
    expect(target.lines.some((line) => line.startsWith('[redis-actors] error: forged'))).toBe(
      false,
    );
    for (const line of logged) expect(line.length).toBeLessThan(1500);
    console.log(
      `bookkeeping: heap +${((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MiB ` +
        `after ${TELLS} distinct types; ${logged.length} log lines`,
    );
  });
});
