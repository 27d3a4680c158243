/**
 * Where Redis refuses MONITOR (issue 15, point 4), the monitor falls back to
 * PSUBSCRIBE and says so: `system.monitor()` resolves to a handle whose
 * `mode` is `psubscribe` (with the refusal), and `redis-actors monitor` says
 * on stderr that it fell back and that asks to nobody wait for their timeout
 * while it runs. Refusals: an ACL user without MONITOR (as `redis-actors acl`
 * makes them), and a server that renamed the command away. On redis-servers
 * of each test's own.
 */
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ActorSystem,
  AskTimeoutError,
  type MonitorEvent,
  PermissionError,
  defineActor,
} from '../src/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  deferred,
  redisActorsCli,
  startOwnRedis,
  uniqueNamespace,
} from './helpers.js';

const PASSWORD = 'monitor-fallback-Pw-3c9';

/** A server with a user `watcher` who may do everything but MONITOR: its URL as that user, and an admin. */
async function serverWithoutMonitor(): Promise<{ url: string; admin: Redis }> {
  const redis = await startOwnRedis();
  const admin = new Redis({ path: redis.socketPath });
  onTestFinished(() => {
    admin.disconnect();
  });
  await admin.call(
    ...['ACL', 'SETUSER', 'watcher', 'reset', 'on', `>${PASSWORD}`],
    ...['~*', '&*', '+@all', '-monitor'],
  );
  return { url: `${redis.url}?username=watcher&password=${PASSWORD}`, admin };
}

/** The ACL LOG entries since the last call, as `<user> <reason> <object>`. */
async function refusals(admin: Redis): Promise<string[]> {
  const entries = (await admin.call('ACL', 'LOG')) as unknown[][];
  await admin.call('ACL', 'LOG', 'RESET');
  return entries.map((entry) => {
    const field = (name: string): string => String(entry[entry.indexOf(name) + 1]);
    return `${field('username')} ${field('reason')} ${field('object')}`;
  });
}

async function systemOn(url: string, namespace: string): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return system;
}

const sink = defineActor({ handlers: { note: () => undefined } });

beforeAll(() => {
  assertBuildIsCurrent();
});

describe('when Redis refuses MONITOR', () => {
  it('system.monitor falls back to PSUBSCRIBE, says why, and still shows the traffic', async () => {
    const { url } = await serverWithoutMonitor();
    const namespace = uniqueNamespace();
    const host = await systemOn(url, namespace);
    await host.spawn(sink, { name: 'sink' });
    const watcher = await systemOn(url, namespace);
    const seen = deferred<MonitorEvent>();
    const stop = await watcher.monitor((event) => {
      if (event.envelope?.kind === 'tell') seen.resolve(event);
    });
    expect(stop.mode).toBe('psubscribe');
    expect(stop.fallbackReason).toMatch(/^NOPERM .*monitor/i);
    expect(stop.stats()).toMatchObject({ mode: 'psubscribe', connected: true });
    await host.tell('sink', 'note', 'seen through the pattern');
    const event = await seen.promise;
    expect(event).toMatchObject({ target: 'sink', command: undefined, client: undefined });
    // What the fallback costs, as the notice says: the pattern is a receiver of every channel.
    const failure = await host
      .ask('nobody-here', 'ping', null, { timeoutMs: 500 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AskTimeoutError);
    await stop();
  });

  it("mode 'monitor' rejects with PermissionError instead of falling back", async () => {
    const { url } = await serverWithoutMonitor();
    const watcher = await systemOn(url, uniqueNamespace());
    const refused = await watcher
      .monitor(() => undefined, { mode: 'monitor' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermissionError);
    expect((refused as PermissionError).command).toBe('MONITOR');
    expect((refused as PermissionError).user).toBe('watcher');
  });

  it('a server that renamed MONITOR away: falls back, with the unknown-command reply', async () => {
    const redis = await startOwnRedis({ args: ['--rename-command', 'MONITOR', 'monitor-hidden'] });
    const watcher = await systemOn(redis.url, uniqueNamespace());
    const stop = await watcher.monitor(() => undefined);
    expect(stop.mode).toBe('psubscribe');
    expect(stop.fallbackReason).toMatch(/unknown command/i);
    await stop();
  });

  it('redis-actors monitor as an ACL user says on stderr that it fell back, and what that costs', async () => {
    const { url } = await serverWithoutMonitor();
    const namespace = uniqueNamespace();
    const host = await systemOn(url, namespace);
    await host.spawn(sink, { name: 'sink' });
    const monitor = redisActorsCli(['monitor', '--json'], namespace, { REDIS_URL: url });
    await monitor.waitForLine(/^monitoring namespace/);
    const notice = await monitor.waitForLine(/fell back to PSUBSCRIBE/);
    expect(notice).toContain(`PSUBSCRIBE ${namespace}:*`);
    expect(notice).toMatch(/NOPERM/);
    expect(notice).toMatch(
      /an ask to a name or address nobody serves waits for its timeout instead of failing at once with NoRecipientError/,
    );
    expect(monitor.stdout.join('\n')).not.toMatch(/fell back/);
    await host.tell('sink', 'note', 'seen through the pattern');
    expect(JSON.parse(await monitor.waitForLine(/"kind":"tell"/))).toMatchObject({ to: 'sink' });
    monitor.signalGroup('SIGINT');
    await monitor.exited;
  });

  it('--mode psubscribe watches without trying MONITOR (nothing in ACL LOG); auto leaves one refusal there', async () => {
    const { url, admin } = await serverWithoutMonitor();
    const namespace = uniqueNamespace();
    const host = await systemOn(url, namespace);
    await host.spawn(sink, { name: 'sink' });
    await refusals(admin);
    const chosen = redisActorsCli(['monitor', '--mode', 'psubscribe', '--json'], namespace, {
      REDIS_URL: url,
    });
    const notice = await chosen.waitForLine(/^watching with PSUBSCRIBE/);
    expect(notice).toMatch(/\(--mode psubscribe\).*waits for its timeout/);
    await host.tell('sink', 'note', 'seen through the pattern');
    await chosen.waitForLine(/"kind":"tell"/);
    chosen.signalGroup('SIGINT');
    await chosen.exited;
    expect(await refusals(admin)).toEqual([]);
    const auto = await host.monitor(() => undefined);
    expect(auto.mode).toBe('psubscribe');
    await auto();
    expect(await refusals(admin)).toEqual(['watcher command monitor']);
  });

  it('--mode of another value exits 2 (bad arguments)', async () => {
    const { url } = await serverWithoutMonitor();
    const run = redisActorsCli(['monitor', '--mode', 'sometimes'], uniqueNamespace(), {
      REDIS_URL: url,
    });
    expect(await run.waitForLine(/--mode must be auto, monitor or psubscribe/)).toBeDefined();
    expect((await run.exited).code).toBe(2);
  });
});
