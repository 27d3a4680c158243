/**
 * MONITOR output is hostile input (issue 15, point 4): anyone on the Redis
 * issues commands, and Redis writes each as one line with every
 * non-printable byte as `\xHH`. A stranger's SET of a 64 MB value and
 * PUBLISH of 64 MB on a namespace channel (random bytes: lines of about
 * 230 MB) must cost the monitor bounded memory, be counted, and not stop it
 * from showing the next message. On a redis-server of each test's own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, type MonitorEvent } from '../src/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  deferred,
  repoRoot,
  runCommand,
  startOwnRedis,
  uniqueNamespace,
} from './helpers.js';

const MB = 1024 * 1024;
const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** A field of /proc/<pid>/status in bytes: VmRSS (resident now), VmHWM (its peak so far). */
function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

async function systemOn(url: string, namespace: string): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return system;
}

function stranger(socketPath: string): Redis {
  const client = new Redis({ path: socketPath });
  onTestFinished(() => {
    client.disconnect();
  });
  return client;
}

/**
 * The next message: published by the stranger too, since Redis stalls while it
 * formats the floods for the monitor, long enough for the systems' health
 * checks to replace their connections (a tell might find its actor resubscribing).
 */
function nextMessage(): string {
  const envelope = {
    v: 1,
    kind: 'tell',
    id: 'next-1',
    from: 'stranger',
    to: 'after',
    type: 'note',
  };
  return JSON.stringify({ ...envelope, sentAt: Date.now() });
}

beforeAll(() => {
  assertBuildIsCurrent();
});

describe('a stranger floods the MONITOR feed', () => {
  it('redis-actors monitor: RSS stays within +100 MB, both lines are counted, the next message shows', async () => {
    const redis = await startOwnRedis();
    const namespace = uniqueNamespace();
    const monitor = runCommand(process.execPath, [CLI, 'monitor', '--json'], {
      REDIS_URL: redis.url,
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    await monitor.waitForLine(/^watching with Redis MONITOR/);
    const before = memoryOf(monitor.pid, 'VmRSS');

    const client = stranger(redis.socketPath);
    const flood = randomBytes(64 * MB);
    await client.set('stranger:big', flood);
    await client.publish(`${namespace}:victim`, flood);
    await client.publish(`${namespace}:after`, nextMessage());

    await monitor.waitForLine(/"to":"after"/, 60_000);
    const peak = memoryOf(monitor.pid, 'VmHWM');
    expect(peak - before).toBeLessThan(100 * MB);
    // The namespace's PUBLISH shows, as too large to show; the stranger's SET is only counted.
    const oversized = JSON.parse(await monitor.waitForLine(/"problem":"oversized/)) as unknown;
    expect(oversized).toMatchObject({ kind: 'invalid', to: 'victim' });
    await monitor.waitForLine(/skipped a MONITOR line of \d+ bytes \(SET from /);
    monitor.signalGroup('SIGINT');
    await monitor.exited;
    expect(monitor.lines).toContain('skipped 2 MONITOR lines over the limit');
  }, 120_000);

  it('system.monitor: counts both, shows the PUBLISH as oversized, keeps showing', async () => {
    const redis = await startOwnRedis();
    const namespace = uniqueNamespace();
    const watcher = await systemOn(redis.url, namespace);
    const events: MonitorEvent[] = [];
    const after = deferred();
    const stop = await watcher.monitor((event) => {
      events.push(event);
      if (event.envelope?.to === 'after') after.resolve();
    });
    const client = stranger(redis.socketPath);
    const flood = randomBytes(64 * MB);
    await client.set('stranger:big', flood);
    await client.publish(`${namespace}:victim`, flood);
    await client.publish(`${namespace}:after`, nextMessage());
    await after.promise;
    expect(stop.stats()).toMatchObject({ mode: 'monitor', connected: true, oversizedLines: 2 });
    // The stall made the systems' connections reconnect: their mailbox probes show too.
    const seen = events.filter((event) => event.target === 'victim' || event.target === 'after');
    expect(
      seen.map((event) => event.target),
      JSON.stringify(events.map((e) => [e.target, e.envelope])),
    ).toEqual(['victim', 'after']);
    expect(seen[0]).toMatchObject({
      target: 'victim',
      command: 'PUBLISH',
      envelope: undefined,
    });
    expect(seen[0]?.problem).toMatch(/^oversized: its MONITOR line is \d+ bytes/);
    expect(seen[0]?.payload.length).toBe(0);
    await stop();
  }, 120_000);
});
