/**
 * Messages the framework acts on, forged by a stranger with a plain Redis
 * client: READY sprayed at a supervisor, and asks whose reply is aimed at a
 * third party's channel.
 */
import os from 'node:os';
import { nanoid } from 'nanoid';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROTOCOL_VERSION, defineActor } from '../../src/index.js';
import { rawClient, startSystem, uniqueNamespace } from '../helpers.js';
import { gatedSpawn } from './gated-spawn.js';

const GATED_CHILD = 'test/security/fixtures/gated-child.ts';

describe('forged control messages', () => {
  it('a READY sprayed by a stranger never resolves spawn(): it waits for the child it started', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const { supervisor, spawned, pid, raw, open } = await gatedSpawn(system, 'gated', GATED_CHILD);
    let settled = false;
    void spawned.finally(() => (settled = true));
    expect(pid).toBeGreaterThan(0);

    // 400 READYs: the child's own pid with guessed tokens, and guessed pids around it.
    const forged = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({
        v: PROTOCOL_VERSION,
        id: `forger.${i}`,
        kind: 'tell',
        from: 'evil-addr',
        to: system.address,
        type: '$ready',
        sentAt: Date.now(),
        body: {
          name: 'gated',
          address: 'evil-addr',
          pid: i % 2 === 0 ? pid : pid + (i % 50) - 25,
          startedAt: Date.now(),
          token: nanoid(32),
        },
      }),
    );
    const pipeline = raw.pipeline();
    for (const envelope of forged) pipeline.publish(`${namespace}:${system.address}`, envelope);
    await pipeline.exec();
    await expect.poll(() => supervisor.refusedReady, { timeout: 10_000 }).toBe(400);
    expect(settled).toBe(false);

    await open();
    const child = await spawned;
    expect(child.pid).toBe(pid);
    expect(child.address).toBe(`${os.hostname()}-${pid}`);
    expect(await system.ask('gated', 'pid')).toBe(pid);
    expect(supervisor.refusedReady).toBe(400);
    const logged = (system.options.logger as unknown as { lines: string[] }).lines;
    expect(logged.filter((line) => line.includes('refused a READY')).length).toBeLessThanOrEqual(2);
  });

  it('an ask whose replyTo is a topic, another namespace or a pattern is refused and counted', async () => {
    const namespace = uniqueNamespace();
    const target = await startSystem({ namespace });
    await target.spawn(defineActor({ handlers: { hello: () => 'hi' } }), { name: 'target' });
    const raw = rawClient();
    const listener = raw.duplicate();
    onTestFinished(() => {
      listener.disconnect();
    });
    const heard: string[] = [];
    const genuine = new Promise<void>((resolve) => {
      listener.on('message', (channel: string) => {
        heard.push(channel);
        if (channel === `${namespace}:stranger-box`) resolve();
      });
    });
    const victims = [
      `${namespace}:topic:chat.lobby`,
      'other:victim',
      `${namespace}:stranger-box`,
      `${namespace}:*`,
    ];
    await listener.subscribe(...victims);
    const ask = (replyTo: string, type: string, i: number) => ({
      v: PROTOCOL_VERSION,
      id: `stranger.${type}.${i}`,
      kind: 'ask',
      from: 'stranger-box',
      to: 'target',
      type,
      replyTo,
      sentAt: Date.now(),
      deadline: Date.now() + 10_000,
    });
    const aimed = ['topic:chat.lobby', '../other:victim', '*', 'a b', 'x[1]'];
    // One PUBLISH of 1,000 health asks (answered by the framework itself) aimed elsewhere.
    const batch = Array.from({ length: 1000 }, (_, i) =>
      ask(aimed[i % aimed.length] ?? '', 'health', i),
    );
    await raw.publish(`${namespace}:target`, JSON.stringify(batch));
    // Then one genuine ask: its reply comes after any reply to the batch would have.
    await raw.publish(`${namespace}:target`, JSON.stringify(ask('stranger-box', 'hello', 0)));
    await genuine;
    expect(heard).toEqual([`${namespace}:stranger-box`]);
    expect(target.stats().invalidByReason['bad-reply-to']).toBe(1000);
  });
});
