import { describe, expect, it } from 'vitest';
import { InvalidMessageError, MessageTooLargeError, defineActor } from '../src/index.js';
import { startSystem, uniqueNamespace } from './helpers.js';

describe('message size and content limits', () => {
  it('refuses to send a message over maxMessageBytes, before anything is published', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace, maxMessageBytes: 64 * 1024 });
    await server.spawn(defineActor({ handlers: { take: (body: string) => body.length } }), {
      name: 'taker',
    });
    const sentBefore = client.stats().sent;
    const big = 'x'.repeat(100 * 1024);
    const error = await client.ask('taker', 'take', big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).limit).toBe(64 * 1024);
    expect((error as Error).message).toMatch(/exceeds the limit of 65536 bytes/);
    await expect(client.tell('taker', 'take', big)).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(client.stats().sent).toBe(sentBefore);
    expect(client.stats().pendingAsks).toBe(0);
    // Multi-byte characters count as bytes, not characters.
    await expect(client.ask('taker', 'take', 'é'.repeat(40 * 1024))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    expect(await client.ask('taker', 'take', 'é'.repeat(20 * 1024))).toBe(20 * 1024);
  });

  it('tells the asker with MessageTooLargeError when the reply itself is too large', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, maxMessageBytes: 64 * 1024 });
    const client = await startSystem({ namespace });
    await server.spawn(defineActor({ handlers: { blow: (n: number) => 'y'.repeat(n) } }), {
      name: 'blower',
    });
    await expect(client.ask('blower', 'blow', 100 * 1024)).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    expect(await client.ask('blower', 'blow', 10)).toBe('yyyyyyyyyy');
  });

  it('refuses a body that cannot be serialised with InvalidMessageError', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    await server.spawn(defineActor({ handlers: { any: () => 1 } }), { name: 'any' });
    const error = await server.ask('any', 'any', { callback: () => 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toMatch(/cannot send this body/);
  });
});
