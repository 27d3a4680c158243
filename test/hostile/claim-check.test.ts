/**
 * Claim-check stubs come from anyone: the receiver verifies before it
 * fetches, fetches no more than it declared it would accept, and takes a
 * stored message only when it matches its stub in every header field.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROTOCOL_VERSION, defineActor } from '../../src/index.js';
import { Redis } from 'ioredis';
import { rawClient, startOwnRedis, startSystem, uniqueNamespace } from '../helpers.js';

const LIMIT = 1024 * 1024;

/** `ownRedis`: on a redis-server of the test's own, whose byte counters nobody else moves. */
async function scene(ownRedis = false) {
  const namespace = uniqueNamespace();
  const own = ownRedis ? await startOwnRedis() : undefined;
  const url = own === undefined ? {} : { url: own.url };
  const target = await startSystem({ namespace, maxMessageBytes: LIMIT, ...url });
  const client = await startSystem({ namespace, ...url });
  const handled: unknown[] = [];
  await target.spawn(
    defineActor({
      handlers: {
        record: (body: unknown) => {
          handled.push(body);
        },
        count: () => handled.length,
      },
    }),
    { name: 'target' },
  );
  const raw = own === undefined ? rawClient() : new Redis({ path: own.socketPath });
  if (own !== undefined)
    onTestFinished(() => {
      raw.disconnect();
    });
  const header = (id: string, fields: Record<string, unknown> = {}) => ({
    v: PROTOCOL_VERSION,
    id,
    kind: 'tell',
    from: 'stranger',
    to: 'target',
    type: 'record',
    sentAt: Date.now(),
    ...fields,
  });
  const publishStub = async (id: string, key: string, size: number) => {
    const stub = JSON.stringify({ ...header(id), claim: { key, size } });
    expect(await raw.publish(`${namespace}:target`, stub)).toBe(1);
  };
  const bytesSentByRedis = async () =>
    Number(/total_net_output_bytes:(\d+)/.exec(await raw.info('stats'))?.[1]);
  return { namespace, target, client, handled, raw, header, publishStub, bytesSentByRedis };
}

describe('claim check against a stranger', () => {
  it('a stub that understates a huge stored value costs the receiver almost nothing', async () => {
    const { namespace, target, client, raw, publishStub, bytesSentByRedis } = await scene(true);
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    const token = 'T'.repeat(22);
    // Both key forms: an old one (id only) and one as the sender makes them (the channel's
    // hash tag, the id, a token).
    const genuineForm = `${namespace}:claim:{${namespace}:target}:lie-2:${token}`;
    await raw.set(`${namespace}:claim:lie-1`, huge);
    await raw.set(genuineForm, huge);
    const before = await bytesSentByRedis();
    await publishStub('lie-1', `${namespace}:claim:lie-1`, 10);
    await publishStub('lie-2', genuineForm, 10);
    expect(await client.ask('target', 'count')).toBe(0);
    const sent = (await bytesSentByRedis()) - before;
    expect(sent).toBeLessThan(1024 * 1024);
    console.log(`claim check: 2 stubs understating 50 MiB values cost ${sent} bytes from Redis`);
    expect(target.stats().invalidByReason['bad-claim']).toBe(2);
    // The understated value was deleted, not left for the TTL.
    expect(await raw.exists(genuineForm)).toBe(0);
  });

  it('a stored message whose header differs from its stub is refused', async () => {
    const { namespace, target, client, handled, raw, header, publishStub } = await scene();
    const token = 'U'.repeat(22);
    const key = `${namespace}:claim:{${namespace}:target}:swap-1:${token}`;
    // Same id and kind as the stub, another sender and type: today only id and kind are compared.
    const stored = JSON.stringify({
      ...header('swap-1', { from: 'someone-else' }),
      body: 'swapped',
    });
    await raw.set(key, stored);
    await publishStub('swap-1', key, Buffer.byteLength(stored));
    const storedOld = JSON.stringify({
      ...header('swap-2', { from: 'someone-else' }),
      body: 'swapped',
    });
    await raw.set(`${namespace}:claim:swap-2`, storedOld);
    await publishStub('swap-2', `${namespace}:claim:swap-2`, Buffer.byteLength(storedOld));
    expect(await client.ask('target', 'count')).toBe(0);
    expect(handled).toEqual([]);
    expect(target.stats().invalidByReason['bad-claim']).toBe(2);
  });

  it('genuine claim-checked messages still arrive whole, and leave no key behind', async () => {
    const { namespace, client, handled, raw } = await scene();
    const body = 'y'.repeat(LIMIT - 4096);
    await client.tell('target', 'record', body);
    expect(await client.ask('target', 'count')).toBe(1);
    expect(handled).toEqual([body]);
    expect(await raw.keys(`${namespace}:claim:*`)).toEqual([]);
  });
});
