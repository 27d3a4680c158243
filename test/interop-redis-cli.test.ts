/**
 * A client that is not this framework: redis-cli publishes an ask written by
 * hand exactly as docs/PROTOCOL.md shows, and receives the reply on its own
 * reply-to channel.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defineActor } from '../src/index.js';
import { parseRedisUrl } from '../src/transport/redis-url.js';
import { deferred, redisUrl, runCommand, startSystem, uniqueNamespace } from './helpers.js';

const hasRedisCli = spawnSync('redis-cli', ['--version']).status === 0;

function cliTarget(): string[] {
  const endpoint = parseRedisUrl(redisUrl());
  return endpoint.kind === 'unix' ? ['-s', endpoint.path] : ['-u', redisUrl()];
}

describe.skipIf(!hasRedisCli)('interop with redis-cli', () => {
  it('answers an ask PUBLISHed by redis-cli on the reply-to channel', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    await system.spawn(defineActor({ handlers: { greet: (name: string) => `hello ${name}` } }), {
      name: 'greeter',
    });
    const inbox = `${namespace}:cli-inbox`;
    // redis-cli prints the channel name once the subscription is confirmed.
    const subscriber = runCommand('redis-cli', [...cliTarget(), 'SUBSCRIBE', inbox]);
    await subscriber.waitForLine(new RegExp(`^${inbox}$`));
    const ask = {
      v: 1,
      id: 'cli-ask-1',
      kind: 'ask',
      from: 'cli-inbox',
      to: 'greeter',
      replyTo: 'cli-inbox',
      type: 'greet',
      body: 'ada',
      sentAt: Date.now(),
      deadline: Date.now() + 60_000,
    };
    const receivers = execFileSync('redis-cli', [
      ...cliTarget(),
      'PUBLISH',
      `${namespace}:greeter`,
      JSON.stringify(ask),
    ]).toString();
    expect(receivers.trim()).toBe('1');
    const line = await subscriber.waitForLine(/^\{/);
    const reply = JSON.parse(line) as Record<string, unknown>;
    expect(reply).toMatchObject({
      v: 1,
      kind: 'reply',
      from: system.address,
      to: 'cli-inbox',
      correlationId: 'cli-ask-1',
      body: 'hello ada',
    });
    expect(typeof reply.id).toBe('string');
    expect(typeof reply.sentAt).toBe('number');
  });

  it('hands a tell XADDed by redis-cli to a durable mailbox to its actor, as docs/PROTOCOL.md shows', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const got = deferred<unknown>();
    await system.spawn(
      defineActor({
        handlers: {
          resize: (body: unknown) => {
            got.resolve(body);
          },
        },
      }),
      { name: 'jobs', mailbox: { durable: true } },
    );
    const cli = (...args: string[]) =>
      execFileSync('redis-cli', [...cliTarget(), ...args])
        .toString()
        .trim();
    expect(cli('HGET', `${namespace}:durable:{jobs}`, 'capacity')).toBe('10000');
    const tell = {
      v: 1,
      kind: 'tell',
      id: 'cli-1',
      from: 'cli',
      to: 'jobs',
      type: 'resize',
      sentAt: 1764720000000,
      body: { file: 'a.png' },
    };
    cli('XADD', `${namespace}:inbox:{jobs}`, '*', 'm', JSON.stringify(tell));
    cli('LPUSH', `${namespace}:wake:{jobs}`, '1');
    expect(await got.promise).toEqual({ file: 'a.png' });
  });
});
