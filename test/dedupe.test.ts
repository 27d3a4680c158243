import { describe, expect, it } from 'vitest';
import { MessageIds, RecentIds } from '../src/wire/dedupe.js';

const SKEW = 1000;
const WINDOW = 10_000;

function filter(options: { maxEntries?: number; maxSenders?: number } = {}) {
  const clock = { now: 1_000_000 };
  const recent = new RecentIds({
    windowMs: WINDOW,
    maxEntries: options.maxEntries ?? 100,
    maxClockSkewMs: SKEW,
    ...(options.maxSenders === undefined ? {} : { maxSenders: options.maxSenders }),
    now: () => clock.now,
  });
  return { recent, clock, check: (id: string, sentAt = clock.now) => recent.check(id, sentAt) };
}

describe('duplicate detection', () => {
  it('drops a framework id at or below the highest seen from its sender, within the window', () => {
    const { check } = filter();
    const alice = new MessageIds('aaaaaaaaaaaa');
    const bob = new MessageIds('bbbbbbbbbbbb');
    const sent = Array.from({ length: 1000 }, () => alice.next());
    for (const id of sent) expect(check(id)).toBe('first');
    expect(check(bob.next())).toBe('first');
    // A resend of any earlier id, even far outside a count-based window.
    expect(check(sent[0] ?? '')).toBe('duplicate');
    expect(check(sent[999] ?? '')).toBe('duplicate');
    expect(check(alice.next())).toBe('first');
  });

  it('keeps a mark per recipient: messages to two channels may interleave (a cluster shard each)', () => {
    const { recent, clock } = filter();
    const alice = new MessageIds('aaaaaaaaaaaa');
    const [first, second, third] = [alice.next(), alice.next(), alice.next()];
    // Sent 1, 2, 3 (2 to another recipient); 2's shard delivers after 3's.
    expect(recent.check(first, clock.now, clock.now, 'echo1')).toBe('first');
    expect(recent.check(third, clock.now, clock.now, 'echo1')).toBe('first');
    expect(recent.check(second, clock.now, clock.now, 'echo2')).toBe('first');
    expect(recent.check(first, clock.now, clock.now, 'echo1')).toBe('duplicate');
    expect(recent.check(second, clock.now, clock.now, 'echo2')).toBe('duplicate');
    // Without recipients, the same arrival order takes 2 for a repeat.
    const { check } = filter();
    expect([check(first), check(third), check(second)]).toEqual(['first', 'first', 'duplicate']);
  });

  it('refuses messages sent too long ago or too far in the future', () => {
    const { check, clock } = filter();
    expect(check('raw-old', clock.now - WINDOW - SKEW - 1)).toBe('stale');
    expect(check('raw-edge', clock.now - WINDOW - SKEW)).toBe('first');
    expect(check('raw-future', clock.now + SKEW + 1)).toBe('future');
    expect(check('aaaaaaaaaaaa.5', clock.now + SKEW + 1)).toBe('future');
  });

  it('is not silenced by a forged huge counter: the next genuine message replaces the mark', () => {
    const { check, clock } = filter();
    const alice = new MessageIds('aaaaaaaaaaaa');
    expect(check(alice.next())).toBe('first');
    // A stranger, having seen alice's nonce, sends one with a counter from the far future.
    expect(check('aaaaaaaaaaaa.zzzzzzzzzzz', clock.now)).toBe('first');
    clock.now += 1;
    for (let i = 0; i < 100; i++) {
      expect(check(alice.next())).toBe('first');
      clock.now += 1;
    }
    // Forged with a sentAt as far ahead as allowed: silence lasts at most maxClockSkewMs.
    expect(check('aaaaaaaaaaaa.zzzzzzzzzzz', clock.now + SKEW)).toBe('first');
    expect(check(alice.next())).toBe('duplicate');
    clock.now += SKEW + 1;
    expect(check(alice.next())).toBe('first');
  });

  it('never takes a replay after a forged reset', () => {
    const { check, clock } = filter();
    const alice = new MessageIds('aaaaaaaaaaaa');
    const captured = Array.from({ length: 5 }, () => {
      clock.now += 1;
      return { id: alice.next(), sentAt: clock.now };
    });
    for (const message of captured) expect(check(message.id, message.sentAt)).toBe('first');
    // A forged low counter sent later moves the mark down, but never its time.
    clock.now += 1;
    expect(check('aaaaaaaaaaaa.0', clock.now)).toBe('first');
    for (const message of captured) {
      expect(['duplicate', 'out-of-order']).toContain(check(message.id, message.sentAt));
    }
  });

  it('keeps every recent mark when strangers flood it with sender nonces; replays stay refused', () => {
    const { check, clock } = filter({ maxSenders: 100, maxEntries: 1000 });
    const alice = new MessageIds('aaaaaaaaaaaa');
    const captured = { id: alice.next(), sentAt: clock.now };
    expect(check(captured.id, captured.sentAt)).toBe('first');
    for (let i = 0; i < 150; i++) {
      const fake = `f${i.toString().padStart(11, '0')}.1`;
      expect(check(fake)).toBe('first');
      expect(check(fake)).toBe('duplicate');
    }
    expect(check(captured.id, captured.sentAt)).toBe('duplicate');
  });

  it('remembers foreign ids exactly; an early rotation (a flood) refuses what it may have forgotten', () => {
    const { check, clock } = filter({ maxEntries: 10 });
    const first = { id: 'raw-1', sentAt: clock.now };
    expect(check(first.id, first.sentAt)).toBe('first');
    expect(check(first.id, first.sentAt)).toBe('duplicate');
    clock.now += 1;
    // Ten more ids rotate the generations twice: raw-1 is forgotten...
    for (let i = 0; i < 10; i++) expect(check(`flood-${i}`)).toBe('first');
    // ...so its replay is refused by the floor rather than taken again.
    expect(check(first.id, first.sentAt)).toBe('stale');
    // Time-based rotation: after the window and skew, the floor is the usual stale bound.
    clock.now += WINDOW + 3 * SKEW;
    expect(check('raw-2')).toBe('first');
    expect(check('raw-2')).toBe('duplicate');
  });

  it('numbers ids <nonce>.<base-36 counter>', () => {
    const ids = new MessageIds('V1StGXR8_Z5j');
    expect([ids.next(), ids.next()]).toEqual(['V1StGXR8_Z5j.0', 'V1StGXR8_Z5j.1']);
    expect(() => new MessageIds('short')).toThrow(/12 characters/);
  });
});
