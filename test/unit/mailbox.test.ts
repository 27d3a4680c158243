/** The mailbox's own logic: order, capacity, and the optional rate limit (p-queue's interval cap). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Mailbox } from '../../src/core/mailbox.js';
import { resolveMailboxOptions } from '../../src/core/options.js';

/** Lets the microtasks and promise continuations queued so far run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('mailbox', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts at most `count` messages per interval, in arrival order, within capacity', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const handled: number[] = [];
    const mailbox = new Mailbox<number>(
      resolveMailboxOptions({ capacity: 4, rateLimit: { count: 2, intervalMs: 1000 } }),
      (n) => {
        handled.push(n);
      },
    );
    const offered = [1, 2, 3, 4, 5, 6, 7].map((n) => mailbox.offer(n));
    // The first starts at once, four wait (the capacity); the last two are refused.
    expect(offered).toEqual([true, true, true, true, true, false, false]);
    await settle();
    expect(handled).toEqual([1, 2]);
    expect(mailbox.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(handled).toEqual([1, 2, 3, 4]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(handled).toEqual([1, 2, 3, 4, 5]);
    expect(mailbox.waiting).toBe(0);
    await mailbox.idle();
  });

  it('refuses rate-limited messages still waiting when closed, at once rather than at the rate', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const handled: number[] = [];
    const mailbox = new Mailbox<number>(
      resolveMailboxOptions({ rateLimit: { count: 1, intervalMs: 60_000 } }),
      (n) => {
        handled.push(n);
      },
    );
    for (const n of [1, 2, 3]) mailbox.offer(n);
    await settle();
    expect(handled).toEqual([1]);
    mailbox.close();
    // Handed to the handler, which refuses them when its actor stops.
    expect(handled).toEqual([1, 2, 3]);
    expect(mailbox.offer(4)).toBe(false);
  });

  it('validates the rate', () => {
    expect(() => resolveMailboxOptions({ rateLimit: { count: 0, intervalMs: 10 } })).toThrow(
      /rateLimit.count/,
    );
  });
});
