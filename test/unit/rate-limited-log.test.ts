/** Refusal logging a stranger cannot flood or forge: per reason, overall, escaped. */
import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../src/util/index.js';
import { captureLogger } from '../helpers.js';

function log(options: { linesPerSecond?: number; maxReasons?: number } = {}) {
  const clock = { now: 0 };
  const logger = captureLogger();
  const limited = new RateLimitedLog(logger, {
    ...options,
    intervalMs: 60_000,
    now: () => clock.now,
  });
  return { clock, lines: logger.lines, warn: limited.warn.bind(limited) };
}

describe('rate-limited log', () => {
  it('logs the first event of a reason, then one line a minute with the count', () => {
    const { clock, lines, warn } = log();
    for (let i = 0; i < 100; i++) warn('mailbox-full', `full ${i}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/full 0 \(further "mailbox-full" events are counted/);
    clock.now = 60_000;
    warn('mailbox-full', 'full again');
    expect(lines[1]).toMatch(/full again \(99 more "mailbox-full" events since the last line\)/);
  });

  it('writes at most twice the rate in a burst of distinct reasons, and says how many it held back', () => {
    const { clock, lines, warn } = log({ linesPerSecond: 5 });
    for (let i = 0; i < 1000; i++) warn(`reason-${i}`, `event ${i}`);
    expect(lines).toHaveLength(10);
    clock.now = 1000;
    warn('later', 'a later event');
    expect(lines[10]).toMatch(/a later event .*; 990 lines over the log rate limit\)/);
  });

  it('keeps every message on one line and cuts it short', () => {
    const { lines, warn } = log();
    warn('forged', 'type "x\n[redis-actors] error: forged\u001b[31m"');
    warn('long', 'y'.repeat(5000));
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toContain('\\u000a[redis-actors] error: forged\\u001b[31m');
    expect(lines[1]?.length).toBeLessThan(1200);
  });
});
