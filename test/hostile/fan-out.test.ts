/**
 * Back-pressure on the way out: 5,000 tells of 250 KB issued in one
 * event-loop turn all arrive, and the sender's memory stays bounded (its
 * write buffer, not one encoded copy per message).
 */
import { describe, expect, it } from 'vitest';
import { defineActor } from '../../src/index.js';
import { deferred, runTs, startSystem, uniqueNamespace } from '../helpers.js';

const COUNT = 5000;
/** A Node process with tsx (~100 MB here), the 8 MiB write buffer, and headroom for the GC. */
const PEAK_RSS_BOUND_KB = 400 * 1024;

describe('back-pressure', () => {
  it('5,000 × 250 KB told in one turn: every one delivered, sender RSS bounded', async () => {
    const namespace = uniqueNamespace();
    const receiver = await startSystem({ namespace });
    let handled = 0;
    const all = deferred();
    await receiver.spawn(
      defineActor({
        handlers: {
          record: (body: string) => {
            if (body.length === 250 * 1024) handled++;
            if (handled === COUNT) all.resolve();
          },
        },
      }),
      { name: 'target' },
    );
    const sender = runTs('test/hostile/fixtures/fan-out-sender.ts', [], {
      REDIS_ACTORS_NAMESPACE: namespace,
      COUNT: String(COUNT),
    });
    const line = await sender.waitForLine(/^SENT /, 120_000);
    const [, ok, failed, peakKb] = line.split(' ').map(Number);
    console.log(
      `fan-out: ${line}; receiver handled ${handled}, losses ${receiver.stats().connectionLosses}`,
    );
    expect(sender.lines.find((each) => each.startsWith('FIRST FAILURE'))).toBeUndefined();
    expect([ok, failed]).toEqual([COUNT, 0]);
    await all.promise;
    expect(handled).toBe(COUNT);
    expect(receiver.stats().connectionLosses).toBe(0);
    expect(peakKb).toBeLessThan(PEAK_RSS_BOUND_KB);
    console.log(`fan-out: sender peak RSS ${Math.round((peakKb ?? 0) / 1024)} MB`);
  });
});
