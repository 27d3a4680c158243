/**
 * A stranger's very large PUBLISH on a mailbox channel. Under the private
 * broker's pub/sub buffer limit (PUBSUB_BUFFER_LIMIT) it is delivered and
 * refused; above Redis's limit it makes Redis cut the subscriber, and the
 * mailbox probe brings the mailbox back. Prints what each costs.
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ActorSystem, defineActor } from '../../src/index.js';
import { captureLogger, startOwnRedis, startSystem, uniqueNamespace } from '../helpers.js';

async function scene(args: string[] = []) {
  const redis = await startOwnRedis({ args });
  const namespace = uniqueNamespace();
  const target = await startSystem({ url: redis.url, namespace, logger: captureLogger() });
  const client = await startSystem({ url: redis.url, namespace });
  await target.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
    name: 'target',
  });
  const raw = new Redis({ path: redis.socketPath });
  onTestFinished(() => {
    raw.disconnect();
  });
  return { target, client, raw, channel: `${namespace}:target` };
}

/** A JSON string of `megabytes` MB: valid JSON, not an envelope. */
const bigJson = (megabytes: number) => `"${'x'.repeat(megabytes * 1024 * 1024)}"`;

async function served(client: ActorSystem): Promise<void> {
  expect(await client.ask('target', 'echo', 'still here', { timeoutMs: 20_000 })).toBe(
    'still here',
  );
}

describe('a very large foreign publish', () => {
  it('30 MB under the private broker limits: delivered, refused, the mailbox keeps serving', async () => {
    const { target, client, raw, channel } = await scene();
    const started = performance.now();
    expect(await raw.publish(channel, bigJson(30))).toBe(1);
    await served(client);
    const ms = performance.now() - started;
    expect(target.stats().invalidByReason['not-an-envelope']).toBe(1);
    expect(target.stats().connectionLosses).toBe(0);
    console.log(`large publish: 30 MB refused and the next ask answered after ${ms.toFixed(0)} ms`);
  });

  it("40 MB over Redis's default pubsub limit: the subscriber is cut, and the probe restores it", async () => {
    const { target, client, raw, channel } = await scene([
      '--client-output-buffer-limit',
      'pubsub 32mb 8mb 60',
    ]);
    const restored = once(target, 'connection-restored');
    const started = performance.now();
    await raw.publish(channel, bigJson(40));
    await restored;
    const ms = performance.now() - started;
    await served(client);
    expect(target.stats().connectionLosses).toBe(1);
    console.log(
      `large publish: 40 MB cut the subscriber; mailbox proven live again after ${ms.toFixed(0)} ms`,
    );
  });
});
