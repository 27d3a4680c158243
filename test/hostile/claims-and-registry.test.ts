/**
 * Keys a stranger can write (no ACL): name claims and registry entries. Garbage
 * in them never crashes or stalls a process, listing shows only genuine
 * actors, and with a namespace secret a stranger who rewrites a name's claim
 * cannot stop asks by that name from being answered.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type ActorSystem, defineActor } from '../../src/index.js';
import { rawClient, startSystem, uniqueNamespace } from '../helpers.js';

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

/** Values a stranger may put in a claim: empty, bare separators, binary, 1 MB, another's token. */
const GARBAGE_CLAIMS: (string | Buffer)[] = [
  '',
  '|',
  ':',
  ':|',
  '::evil|n',
  randomBytes(64),
  'x'.repeat(1024 * 1024),
  'evil-addr|nonce0000000',
];

/** Bytes Redis has sent to all its clients so far. */
async function bytesSentByRedis(raw: Redis): Promise<number> {
  const info = await raw.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1]);
}

async function served(namespace: string, secret?: Buffer): Promise<ActorSystem> {
  const system = await startSystem({ namespace, ...(secret ? { auth: { secret } } : {}) });
  await system.spawn(echo, { name: 'target' });
  return system;
}

describe('garbage in name claims', () => {
  it('never crashes a process; asks by address are answered and listing shows only genuine actors', async () => {
    const namespace = uniqueNamespace();
    const target = await served(namespace);
    const asker = await startSystem({ namespace });
    const raw = rawClient();
    for (const [i, value] of GARBAGE_CLAIMS.entries()) {
      await raw.set(`${namespace}:name:{target}`, value);
      await raw.set(`${namespace}:name:{${target.address}}`, value);
      expect(await asker.ask(target.address, 'echo', i)).toBe(i);
      // The claim no longer holds the target's token: it is not listed, nor is anybody else.
      expect(await asker.registry.list()).toEqual([]);
      // An ask by name gets its reply checked against the garbage: refused, never a crash.
      await asker.ask('target', 'echo', i, { timeoutMs: 300 }).catch(() => undefined);
    }
    // A 64 MB claim costs a reader at most MAX_CLAIM_BYTES of it.
    await raw.set(`${namespace}:name:{target}`, 'x'.repeat(64 * 1024 * 1024));
    const sentBefore = await bytesSentByRedis(raw);
    await asker.ask('target', 'echo', 'big', { timeoutMs: 300 }).catch(() => undefined);
    expect(await asker.registry.list()).toEqual([]);
    expect((await bytesSentByRedis(raw)) - sentBefore).toBeLessThan(1024 * 1024);
    expect(asker.stats().state).toBe('running');
    expect(target.stats().state).toBe('running');
    expect(await asker.ask(target.address, 'echo', 'still')).toBe('still');
  });

  it('with a namespace secret, a rewritten or deleted claim does not stop asks by name', async () => {
    const namespace = uniqueNamespace();
    const secret = randomBytes(32);
    await served(namespace, secret);
    const asker = await startSystem({ namespace, auth: { secret } });
    const raw = rawClient();
    for (const [i, value] of GARBAGE_CLAIMS.entries()) {
      await raw.set(`${namespace}:name:{target}`, value);
      expect(await asker.ask('target', 'echo', i)).toBe(i);
    }
    await raw.del(`${namespace}:name:{target}`);
    expect(await asker.ask('target', 'echo', 'deleted')).toBe('deleted');
    expect(asker.stats().invalidByReason['foreign-reply']).toBeUndefined();
  });
});

describe('garbage in registry entries', () => {
  it('a 5 MB entry, deep nesting, wrong types and forged tokens are skipped; the genuine actor is listed', async () => {
    const namespace = uniqueNamespace();
    const target = await served(namespace);
    const raw = rawClient();
    const future = String(Date.now() + 600_000);
    // The genuine process's token (a stranger reads it from its claim), so that only the
    // checks of each entry itself keep it out.
    const token = String(await raw.get(`${namespace}:name:{${target.address}}`));
    const planted: Record<string, string | Buffer> = {
      huge: JSON.stringify({ address: 'huge', pid: 1, token: 'huge|n', pad: 'x'.repeat(5e6) }),
      deep: `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      'deep-object': `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      'wrong-types': JSON.stringify({ address: 7, pid: '1', token: ['x'] }),
      proto: '{"__proto__":{"polluted":true},"address":"proto","pid":1,"token":"proto|n"}',
      binary: randomBytes(256),
      // Well formed, but nobody holds `forged`'s claim with this token.
      forged: JSON.stringify({ address: 'forged', pid: 1, token: 'forged|nonce0000000' }),
      // Well formed, naming the genuine actor and address with another token.
      impostor: JSON.stringify({
        name: 'target',
        address: target.address,
        pid: 1,
        token: `${target.address}|nonce0000000`,
      }),
    };
    for (const [address, value] of Object.entries(planted)) {
      // In a process of its own, and in the genuine process's hash.
      await raw.hset(`${namespace}:actors:{${address}}`, address, value);
      await raw.zadd(`${namespace}:processes`, future, address);
      await raw.hset(
        `${namespace}:actors:{${target.address}}`,
        `${target.address}/${address}`,
        value,
      );
    }
    const withToken = (fields: Record<string, unknown>) =>
      JSON.stringify({ pid: 1, token, ...fields });
    const inTarget: Record<string, string> = {
      // Well formed, with the genuine token, but not at its own field.
      [`${target.address}/moved`]: withToken({ address: `${target.address}/elsewhere` }),
      // At its own field, with the genuine token, but of another process.
      'other-1': withToken({ address: 'other-1' }),
      // A field longer than any address.
      [`${target.address}/${'x'.repeat(300)}`]: withToken({
        address: `${target.address}/${'x'.repeat(300)}`,
      }),
    };
    for (const [field, value] of Object.entries(inTarget)) {
      await raw.hset(`${namespace}:actors:{${target.address}}`, field, value);
    }
    // Not a hash at all, for a process whose claim is held.
    await raw.set(`${namespace}:name:{not-a-hash}`, 'not-a-hash|nonce0000000');
    await raw.set(`${namespace}:actors:{not-a-hash}`, 'x');
    await raw.zadd(`${namespace}:processes`, future, 'not-a-hash');
    const listed = await target.registry.list();
    expect(listed.map((info) => [info.name, info.address])).toEqual([['target', target.address]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await target.registry.lookup('forged')).toBeUndefined();
    expect(await target.registry.lookup(`${target.address}/moved`)).toBeUndefined();
    expect(await target.registry.lookup('other-1')).toBeUndefined();
  });
});
