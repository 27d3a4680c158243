/**
 * Who may answer an ask, decided from the claims Redis holds (here a map of
 * claim values as stored): the rules of ReplierCheck without a broker. The
 * integration tests in test/security/forged-replies.test.ts and
 * test/supervisor.test.ts (replies sent while stopping) cross Redis.
 */
import { describe, expect, it } from 'vitest';
import { ReplierCheck } from '../../src/core/replier-check.js';
import { claimState } from '../../src/registry/name-claims.js';

function check(claims: Record<string, string>): ReplierCheck {
  return new ReplierCheck((name) => Promise.resolve(claimState(claims[name])));
}

describe('ReplierCheck', () => {
  it('the asked address answers for itself without asking Redis', () => {
    expect(check({}).knownToAnswer('host-1/worker', 'host-1/worker')).toBe(true);
    expect(check({}).knownToAnswer('host-1/worker', 'evil')).toBe(false);
  });

  it('the owner of a name answers for it, and is then known without asking Redis', async () => {
    const replies = check({ clock: 'host-1|nonce0000000' });
    expect(await replies.mayAnswer('clock', 'host-2')).toBe(false);
    expect(replies.knownToAnswer('clock', 'host-1')).toBe(false);
    expect(await replies.mayAnswer('clock', 'host-1')).toBe(true);
    expect(replies.knownToAnswer('clock', 'host-1')).toBe(true);
  });

  it('an address nobody claims is answered for by nobody but itself', async () => {
    const replies = check({ 'host-1': 'host-1|nonce0000000', evil: 'evil|nonce0000000' });
    expect(await replies.mayAnswer('host-1/actor-1', 'evil')).toBe(false);
    expect(await replies.mayAnswer('host-1/actor-1', 'host-1')).toBe(false);
    expect(await replies.mayAnswer('never-claimed', 'host-1')).toBe(false);
  });

  it('a name given up lately is answered for only by the one that gave it up', async () => {
    const replies = check({ clock: ':host-1/clock|nonce0000000' });
    expect(await replies.mayAnswer('clock', 'host-1/clock')).toBe(true);
    expect(await replies.mayAnswer('clock', 'host-1')).toBe(false);
    expect(await replies.mayAnswer('clock', 'evil-addr')).toBe(false);
    expect(replies.knownToAnswer('clock', 'host-1/clock')).toBe(false);
  });
});
