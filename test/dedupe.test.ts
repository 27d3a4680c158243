import { describe, expect, it } from 'vitest';
import { MessageIds, RecentIds } from '../src/dedupe.js';

describe('duplicate detection', () => {
  it('drops a framework id at or below the highest seen from its sender, however old', () => {
    const recent = new RecentIds(10_000, 100);
    const alice = new MessageIds('aaaaaaaaaaaa');
    const bob = new MessageIds('bbbbbbbbbbbb');
    const sent = Array.from({ length: 1000 }, () => alice.next());
    for (const id of sent) expect(recent.firstSighting(id)).toBe(true);
    expect(recent.firstSighting(bob.next())).toBe(true);
    // A resend of any earlier id, even far outside a count-based window.
    expect(recent.firstSighting(sent[0] ?? '')).toBe(false);
    expect(recent.firstSighting(sent[999] ?? '')).toBe(false);
    expect(recent.firstSighting(alice.next())).toBe(true);
  });

  it('remembers foreign ids for the window, and bounds memory by rotating generations', () => {
    let now = 0;
    const recent = new RecentIds(1000, 10, () => now);
    expect(recent.firstSighting('raw-1')).toBe(true);
    expect(recent.firstSighting('raw-1')).toBe(false);
    now = 1500;
    expect(recent.firstSighting('raw-2')).toBe(true);
    // raw-1 is in the previous generation: still known.
    expect(recent.firstSighting('raw-1')).toBe(false);
    now = 3000;
    expect(recent.firstSighting('raw-3')).toBe(true);
    // Two rotations later it is forgotten.
    expect(recent.firstSighting('raw-1')).toBe(true);
    for (let i = 0; i < 100; i++) recent.firstSighting(`flood-${i}`);
    expect(recent.firstSighting('flood-99')).toBe(false);
  });

  it('numbers ids <nonce>.<base-36 counter>', () => {
    const ids = new MessageIds('V1StGXR8_Z5j');
    expect([ids.next(), ids.next()]).toEqual(['V1StGXR8_Z5j.0', 'V1StGXR8_Z5j.1']);
    expect(() => new MessageIds('short')).toThrow(/12 characters/);
  });
});
