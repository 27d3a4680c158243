/**
 * The probe's decisions, on their own: when it calls a mailbox live or deaf.
 * (End to end, through Redis, it is exercised by test/faults/subscriber-loss.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MailboxProbe, type PublishCallback } from '../src/core/mailbox-probe.js';

function probe() {
  const published: { id: string; callback: PublishCallback }[] = [];
  const live: number[] = [];
  const deaf: [number, string][] = [];
  let next = 0;
  const subject = new MailboxProbe({
    timeoutMs: 1000,
    newId: () => `probe-${++next}`,
    publish: (id, callback) => published.push({ id, callback }),
    onLive: (ms) => live.push(ms),
    onDeaf: (failures, detail) => deaf.push([failures, detail]),
  });
  return { subject, published, live, deaf };
}

describe('mailbox probe', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is live when its own probe comes back, and ignores stale ones', () => {
    const { subject, published, live, deaf } = probe();
    subject.run();
    subject.run();
    subject.arrived(published[0]?.id ?? '');
    expect(live).toEqual([]);
    subject.arrived(published[1]?.id ?? '');
    expect(live).toHaveLength(1);
    expect(deaf).toEqual([]);
  });

  it('is deaf when the probe reaches no subscriber, fails to publish, or does not come back in time', () => {
    vi.useFakeTimers();
    const { subject, published, live, deaf } = probe();
    subject.run();
    published[0]?.callback(null, 0);
    subject.run();
    published[1]?.callback(new Error('connection lost'), 0);
    subject.run();
    published[2]?.callback(null, 1);
    vi.advanceTimersByTime(1000);
    expect(deaf).toEqual([
      [1, expect.stringMatching(/no subscriber/)],
      [2, expect.stringMatching(/connection lost/)],
      [3, expect.stringMatching(/within 1000 ms/)],
    ]);
    // A probe that comes back resets the count of consecutive failures.
    subject.run();
    subject.arrived(published[3]?.id ?? '');
    subject.run();
    published[4]?.callback(null, 0);
    expect(live).toHaveLength(1);
    expect(deaf.at(-1)?.[0]).toBe(1);
  });
});
