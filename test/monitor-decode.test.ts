/**
 * What a MONITOR-mode monitor shows (issue 15, point 4): tells, asks,
 * replies and topics with the right from, to and type; payloads of any bytes
 * (0x00-0xff, quotes, backslashes, newlines) byte-exact, as a pattern
 * subscriber of this test receives them; appends to durable mailboxes, by the
 * framework's script and by a plain `redis-cli XADD`. On a redis-server of
 * this file's own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ActorSystem,
  type ActorSystemOptions,
  type MonitorEvent,
  type RunningRedisServer,
  defineActor,
  startRedisServer,
} from '../src/index.js';
import { assertBuildIsCurrent, captureLogger, redisActorsCli, uniqueNamespace } from './helpers.js';

const run = promisify(execFile);
let redis: RunningRedisServer;
let started = false;
let dir: string;

beforeAll(async () => {
  assertBuildIsCurrent();
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-monitor-decode-'));
  redis = await startRedisServer({ dir });
  started = true;
});

afterAll(async () => {
  // Started in beforeAll, unless that failed first.
  if (!started) return;
  await redis.stop();
  const fs = await import('node:fs');
  fs.rmSync(dir, { recursive: true, force: true });
});

async function systemIn(namespace: string, options: ActorSystemOptions = {}): Promise<ActorSystem> {
  const system = await ActorSystem.start({
    url: redis.url,
    namespace,
    logger: captureLogger(),
    ...options,
  });
  onTestFinished(() => system.stop());
  return system;
}

/** A raw client of the test's, closed when the test ends. */
function raw(): Redis {
  const client = new Redis({ path: redis.socketPath });
  onTestFinished(() => {
    client.disconnect();
  });
  return client;
}

/** `redis-cli -s <socket> …args`, as a person at a terminal would type it. */
async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-s', redis.socketPath, ...args]);
  return stdout.trim();
}

/** Events kept, and a way to wait for the first one (past or future) that matches. */
function recorder() {
  const events: MonitorEvent[] = [];
  const waiters: { match: (event: MonitorEvent) => boolean; resolve: (e: MonitorEvent) => void }[] =
    [];
  const onEvent = (event: MonitorEvent): void => {
    // Kept as they were: a payload is only valid during the callback.
    events.push({ ...event, payload: Buffer.from(event.payload) });
    for (const waiter of [...waiters]) {
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(events[events.length - 1] as MonitorEvent);
      }
    }
  };
  const next = (match: (event: MonitorEvent) => boolean): Promise<MonitorEvent> => {
    const found = events.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { events, onEvent, next };
}

/** Every payload published on `<namespace>:*`, as Redis delivers it: the reference bytes. */
/**
 * What a pattern subscriber receives: `received(channel, payload)` resolves once
 * it received exactly `payload` there (MONITOR shows a command before Redis
 * delivers it, so the monitor's event may come first).
 */
async function reference(
  namespace: string,
): Promise<{ received(channel: string, payload: Buffer): Promise<void> }> {
  const subscriber = raw();
  const seen: { channel: string; payload: Buffer }[] = [];
  const waiting = new Set<() => void>();
  subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    seen.push({ channel: channel.toString(), payload });
    for (const wake of waiting) wake();
  });
  await subscriber.psubscribe(`${namespace}:*`);
  return {
    received: (channel, payload) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!seen.some((each) => each.channel === channel && each.payload.equals(payload)))
            return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      }),
  };
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ODD_TEXT = 'q"uo\'te \\ back\\\\slash\nnew\r\nline\ttab \u0000\u0007\u0008 é ☃ 😀 "\\"';

const echo = defineActor({
  handlers: {
    echo: (body: unknown) => body,
    note: () => undefined,
    work: () => undefined,
  },
});

describe('a MONITOR-mode monitor', () => {
  it('shows tells, asks, replies and topics with the right from, to and type', async () => {
    const namespace = uniqueNamespace();
    const host = await systemIn(namespace);
    await host.spawn(echo, { name: 'echo' });
    const sender = await systemIn(namespace);
    const watcher = await systemIn(namespace);
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);
    expect(stop.mode).toBe('monitor');

    await sender.tell('echo', 'note', 'hello');
    const tell = await seen.next((e) => e.envelope?.kind === 'tell');
    expect(tell).toMatchObject({
      target: 'echo',
      channel: `${namespace}:echo`,
      command: 'PUBLISH',
    });
    expect(tell.envelope).toMatchObject({ from: sender.address, to: 'echo', type: 'note' });

    expect(await sender.ask('echo', 'echo', { n: 1 })).toEqual({ n: 1 });
    const ask = await seen.next((e) => e.envelope?.kind === 'ask');
    expect(ask.envelope).toMatchObject({ from: sender.address, to: 'echo', type: 'echo' });
    const reply = await seen.next((e) => e.envelope?.kind === 'reply');
    expect(reply.target).toBe(sender.address);
    expect(reply.envelope).toMatchObject({
      // The first actor of a process lives at the process address.
      from: host.address,
      to: sender.address,
      correlationId: ask.envelope?.id,
    });

    expect(await sender.topic<{ price: number }>('prices').publish({ price: 7 })).toBe(0);
    const topic = await seen.next((e) => e.target === 'topic:prices');
    expect(topic.envelope).toBeUndefined();
    expect(JSON.parse(topic.text ?? '')).toEqual({ price: 7 });
    expect(seen.events.every((event) => event.client !== undefined)).toBe(true);
    await stop();
  });

  it('decodes payloads of every byte value byte-exact, as a subscriber receives them', async () => {
    const namespace = uniqueNamespace();
    const host = await systemIn(namespace);
    await host.spawn(echo, { name: 'echo' });
    const sender = await systemIn(namespace);
    const watcher = await systemIn(namespace);
    const delivered = await reference(namespace);
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);
    const stranger = raw();

    // A stranger's raw bytes, on a namespace channel and in a channel name.
    const odd = Buffer.concat([ALL_BYTES, Buffer.from(ODD_TEXT), Buffer.from(ALL_BYTES).reverse()]);
    await stranger.publish(`${namespace}:odd`, odd);
    const strange = await seen.next((e) => e.target === 'odd');
    expect(strange.payload.equals(odd)).toBe(true);
    expect(strange.size).toBe(odd.length);
    expect(strange.envelope).toBeUndefined();
    const channel = `${namespace}:we"ird\\ch\nan\u0001nel`;
    await stranger.publish(channel, 'x');
    expect((await seen.next((e) => e.channel === channel)).target).toBe(
      channel.slice(namespace.length + 1),
    );

    // The framework's own: a JSON body of odd text, and a binary frame of every byte.
    await sender.tell('echo', 'note', ODD_TEXT);
    const text = await seen.next((e) => e.envelope?.kind === 'tell' && e.envelope.type === 'note');
    expect(text.envelope?.body).toBe(ODD_TEXT);
    await sender.tell('echo', 'note', { blob: ALL_BYTES, again: Buffer.from(ODD_TEXT) });
    const binary = await seen.next(
      (e) => e.envelope?.kind === 'tell' && e.envelope.type === 'note' && e !== text,
    );
    expect(binary.envelope?.attachments).toBeDefined();

    // Byte-exact against what Redis delivered to a subscriber.
    // (A payload that differs in any byte is never received, and the test times out.)
    for (const event of [strange, text, binary])
      await delivered.received(event.channel, event.payload);
    await stop();
  });

  it("shows appends to a durable mailbox: the framework's script, and a plain redis-cli XADD", async () => {
    const namespace = uniqueNamespace();
    const host = await systemIn(namespace);
    await host.spawn(echo, { name: 'jobs', mailbox: { durable: true } });
    const sender = await systemIn(namespace);
    const watcher = await systemIn(namespace);
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);

    // The framework: a fresh sender publishes first (nobody receives), then appends.
    await sender.tell('jobs', 'work', 1);
    const appended = await seen.next((e) => e.command === 'XADD');
    expect(appended).toMatchObject({
      target: 'jobs',
      channel: `${namespace}:inbox:{jobs}`,
      client: 'lua',
    });
    expect(appended.envelope).toMatchObject({ kind: 'tell', from: sender.address, to: 'jobs' });

    // A person with redis-cli, as docs/PROTOCOL.md shows it; then one in another database.
    const envelope = (id: string) =>
      JSON.stringify({
        v: 1,
        kind: 'tell',
        id,
        from: 'cli',
        to: 'jobs',
        type: 'resize',
        sentAt: Date.now(),
        body: { file: 'a "b" \\ c\n.png' },
      });
    await redisCli('-n', '1', 'XADD', `${namespace}:inbox:{jobs}`, '*', 'm', envelope('other-db'));
    await redisCli('XADD', `${namespace}:inbox:{jobs}`, '*', 'm', envelope('cli-1'));
    await redisCli(
      ...['XADD', `${namespace}:inbox:{jobs}`, 'NOMKSTREAM', 'MAXLEN', '~', '1000', '*'],
      ...['x', 'y', 'm', envelope('cli-2')],
    );
    const first = await seen.next((e) => e.envelope?.id === 'cli-1');
    expect(first).toMatchObject({ target: 'jobs', command: 'XADD' });
    expect(first.envelope).toMatchObject({ from: 'cli', to: 'jobs', type: 'resize' });
    expect(first.envelope?.body).toEqual({ file: 'a "b" \\ c\n.png' });
    expect((await seen.next((e) => e.envelope?.id === 'cli-2')).target).toBe('jobs');
    // Keys are per database: the namespace's mailboxes are in the URL's.
    expect(seen.events.some((e) => e.envelope?.id === 'other-db')).toBe(false);
    await stop();
  });

  it("checks signatures of appends with the secret, against the name's channel", async () => {
    const namespace = uniqueNamespace();
    const secret = 'a-secret-of-the-test-namespace-32b';
    const host = await systemIn(namespace, { auth: { secret } });
    await host.spawn(echo, { name: 'jobs', mailbox: { durable: true } });
    const sender = await systemIn(namespace, { auth: { secret } });
    const watcher = await systemIn(namespace, { auth: { secret } });
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);
    await sender.tell('jobs', 'work', 1);
    const appended = await seen.next((e) => e.command === 'XADD');
    expect(appended.signature).toBe('valid');
    expect(appended.envelope).toMatchObject({ kind: 'tell', to: 'jobs' });
    await redisCli('XADD', `${namespace}:inbox:{jobs}`, '*', 'm', '{"forged":true}');
    const forged = await seen.next((e) => e.command === 'XADD' && e.envelope === undefined);
    expect(forged.problem).toMatch(/^unsigned/);
    await stop();
  });

  it('redis-actors monitor --json shows a redis-cli XADD to a durable inbox', async () => {
    const namespace = uniqueNamespace();
    const monitor = redisActorsCli(['monitor', '--json'], namespace, { REDIS_URL: redis.url });
    await monitor.waitForLine(/^watching with Redis MONITOR/);
    const body = JSON.stringify({
      v: 1,
      kind: 'tell',
      id: 'cli-9',
      from: 'cli',
      to: 'jobs',
      type: 'resize',
      sentAt: Date.now(),
    });
    await redisCli('XADD', `${namespace}:inbox:{jobs}`, '*', 'm', body);
    const line = JSON.parse(await monitor.waitForLine(/"command":"XADD"/)) as unknown;
    expect(line).toMatchObject({
      kind: 'tell',
      from: 'cli',
      to: 'jobs',
      type: 'resize',
      channel: `${namespace}:inbox:{jobs}`,
    });
    monitor.signalGroup('SIGINT');
    await monitor.exited;
  });
});
