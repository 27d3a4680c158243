/**
 * The subscribing connection lost: killed by the server (back within 1 s and
 * proven live by a probe through Redis), or refused its resubscribe by an ACL
 * change (a typed MailboxLost event, no crash, and a supervised child restarted).
 */
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ActorSystem,
  type ChildExit,
  type ChildInfo,
  MailboxLostError,
  Supervisor,
  defineActor,
} from '../../src/index.js';
import { assertBuildIsCurrent, captureLogger, uniqueNamespace } from '../helpers.js';
import { startFaultRedis } from './fault-redis.js';
import { faultScene } from './scene.js';

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

async function start(url: string, namespace: string): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return system;
}

/** Collects unhandled rejections while the test runs. */
function watchUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  onTestFinished(() => {
    process.off('unhandledRejection', listener);
  });
  return seen;
}

describe('subscriber connection lost', () => {
  it('is resubscribed within 1 s of CLIENT KILL TYPE pubsub and proven live by a probe', async () => {
    const { redis, responder, system } = await faultScene();
    expect(await system.ask('remote', 'echo', 'before')).toBe('before');

    const lost = once(system, 'connection-lost');
    const restored = once(system, 'connection-restored');
    const killedAt = Date.now();
    expect(await redis.admin().client('KILL', 'TYPE', 'pubsub')).toBe(2);
    await lost;
    expect(system.stats().subscribed).toBe(false);
    await restored;
    const recoveryMs = Date.now() - killedAt;
    expect(recoveryMs).toBeLessThan(1000);
    expect(system.stats()).toMatchObject({
      subscribed: true,
      connected: true,
      connectionLosses: 1,
    });
    await responder.waitForLine(/^RESTORED$/);
    // Both directions work again: the ask reaches the remote mailbox, the reply ours.
    expect(await system.ask('remote', 'echo', 'after')).toBe('after');
    console.log(`pub/sub connection killed: mailbox back and proven live in ${recoveryMs} ms`);
  });

  it('reports a refused resubscribe (NOPERM) as a MailboxLostError, without crashing, and recovers once allowed', async () => {
    const redis = await startFaultRedis();
    const admin = redis.admin();
    await admin.call('ACL', 'SETUSER', 'worker', 'on', '>pw', '~*', '&*', '+@all');
    const unhandled = watchUnhandledRejections();
    const namespace = uniqueNamespace();
    const system = await start(`unix://${redis.socketPath}?username=worker&password=pw`, namespace);
    await system.spawn(echo, { name: 'echo' });

    const mailboxLost = once(system, 'mailbox-lost') as Promise<[MailboxLostError]>;
    // Redis drops the subscriber whose channels are no longer allowed; its resubscribe is refused.
    await admin.call('ACL', 'SETUSER', 'worker', 'resetchannels', '&other:*');
    const [error] = await mailboxLost;
    expect(error).toBeInstanceOf(MailboxLostError);
    expect(error.code).toBe('MAILBOX_LOST');
    expect(error.message).toMatch(/NOPERM/);
    expect(error.message).toMatch(/ACL/);
    expect(system.stats().subscribed).toBe(false);

    const restored = once(system, 'connection-restored');
    await admin.call('ACL', 'SETUSER', 'worker', 'allchannels');
    await restored;
    expect(await system.ask('echo', 'echo', 'back')).toBe('back');
    expect(unhandled).toEqual([]);
  });

  it('restarts a supervised child whose mailbox was lost', async () => {
    // The child resolves `redis-actors` to the built package.
    assertBuildIsCurrent();
    const redis = await startFaultRedis();
    const admin = redis.admin();
    await admin.call('ACL', 'SETUSER', 'worker', 'on', '>pw', '~*', '&*', '+@all');
    const namespace = uniqueNamespace();
    const system = await start(redis.url, namespace);
    const supervisor = await Supervisor.start(system, {
      output: () => undefined,
      // Leaves the test the time to lift the ACL between the exit and the restart.
      backoff: { initialMs: 500 },
    });
    onTestFinished(() => supervisor.stop());
    const first = await supervisor.spawn({
      name: 'worker',
      module: 'test/fixtures/worker.ts',
      env: { REDIS_URL: `unix://${redis.socketPath}?username=worker&password=pw` },
    });
    expect(await system.ask('worker', 'pid')).toBe(first.pid);

    const exited = new Promise<ChildExit>((resolve) => supervisor.once('child-exited', resolve));
    const restarted = new Promise<ChildInfo>((resolve) =>
      supervisor.on('child-started', (info: ChildInfo) => {
        if (info.pid !== first.pid) resolve(info);
      }),
    );
    await admin.call('ACL', 'SETUSER', 'worker', 'resetchannels', '&other:*');
    const exit = await exited;
    // The child stopped itself with the mailbox-lost exit code, 75 (EX_TEMPFAIL).
    expect(exit).toMatchObject({ name: 'worker', pid: first.pid, code: 75 });
    await admin.call('ACL', 'SETUSER', 'worker', 'allchannels');
    const second = await restarted;
    expect(await system.ask('worker', 'pid')).toBe(second.pid);
  });
});
