/**
 * Worker pools on a durable mailbox, with real processes (test/fixtures/
 * pool-worker.ts): a member killed with -9 mid-handler has its message taken
 * over by another, once; a slow handler is not run twice while its process
 * lives; 4 members share 10,000 messages, each handled exactly once, and the
 * stream is empty afterwards.
 */
import { describe, expect, it } from 'vitest';
import { type ActorSystem, defineActor } from '../../src/index.js';
import {
  type Child,
  deferred,
  rawClient,
  runTs,
  startSystem,
  uniqueNamespace,
} from '../helpers.js';

const WORKER = 'test/fixtures/pool-worker.ts';

interface Done {
  id: string | number;
  pid: number;
  deliveries: number;
}

/** A collector actor in `system` that keeps every `done` report. */
async function collector(system: ActorSystem, onDone: (done: Done) => void): Promise<void> {
  await system.spawn(
    defineActor({
      handlers: {
        done: (report: Done) => {
          onDone(report);
        },
      },
    }),
    {
      name: 'collector',
    },
  );
}

function members(namespace: string, count: number, env: NodeJS.ProcessEnv = {}): Child[] {
  return Array.from({ length: count }, () =>
    runTs(WORKER, [], { REDIS_ACTORS_NAMESPACE: namespace, ...env }),
  );
}

async function ready(children: Child[]): Promise<void> {
  await Promise.all(children.map((child) => child.waitForLine(/^ready \d+/)));
}

async function stopped(children: Child[]): Promise<void> {
  for (const child of children) child.process.kill('SIGTERM');
  await Promise.all(children.map((child) => child.exited));
}

describe('durable pools', () => {
  it('hands the message of a member killed mid-handler to another member, once', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const reports: Done[] = [];
    const handled = deferred<Done>();
    await collector(system, (done) => {
      reports.push(done);
      handled.resolve(done);
    });
    const pool = members(namespace, 2, { PRESENCE_INTERVAL_MS: '300' });
    await ready(pool);
    await system.tell('work', 'hold', 'job-1');
    const holding = await Promise.race(
      pool.map((child) => child.waitForLine(/^holding job-1 \d+ 1/)),
    );
    const holder = pool.find((child) => holding.includes(` ${child.pid} `));
    expect(holder).toBeDefined();
    process.kill(holder?.pid ?? 0, 'SIGKILL');
    const done = await handled.promise;
    expect(done.pid).not.toBe(holder?.pid);
    expect(done.deliveries).toBe(2);
    await stopped(pool.filter((child) => child !== holder));
    expect(reports).toHaveLength(1);
    const raw = rawClient();
    expect(await raw.xlen(`${namespace}:inbox:{work}`)).toBe(0);
  });

  it('a restarted member takes over what its dead predecessor held before any newer message', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const reports: Done[] = [];
    const six = deferred();
    await collector(system, (done) => {
      reports.push(done);
      if (reports.length === 6) six.resolve();
    });
    const [first] = members(namespace, 1, { CONCURRENCY: '1' });
    if (first === undefined) throw new Error('no member');
    await ready([first]);
    await system.tell('work', 'hold', 'held');
    const holding = await first.waitForLine(/^holding held \d+ 1/);
    const address = /^holding held (\d+)/.exec(holding)?.[1];
    for (let n = 1; n <= 5; n++) await system.tell('work', 'job', n);
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    // What a supervisor does when its child dies: free the claims of that process.
    const raw = rawClient();
    const claims = await raw.keys(`${namespace}:name:{*-${address}}`);
    expect(claims.length).toBeGreaterThan(0);
    await raw.del(...claims);
    const [second] = members(namespace, 1, { CONCURRENCY: '1' });
    if (second === undefined) throw new Error('no member');
    await ready([second]);
    await six.promise;
    expect(reports.map(({ id, deliveries }) => [id, deliveries])).toEqual([
      ['held', 2],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    await stopped([second]);
  });

  it('ctx.once keeps an effect to one run when its member dies after it and another redelivers', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const handled = deferred<Done>();
    await collector(system, (done) => {
      handled.resolve(done);
    });
    const pool = members(namespace, 2, { PRESENCE_INTERVAL_MS: '300' });
    await ready(pool);
    await system.tell('work', 'charge', 'order-7');
    const charged = await Promise.race(
      pool.map((child) => child.waitForLine(/^charged order-7 by \d+ \d+ 1/)),
    );
    const holder = pool.find((child) => charged.endsWith(` ${child.pid} 1`));
    expect(holder).toBeDefined();
    process.kill(holder?.pid ?? 0, 'SIGKILL');
    const done = await handled.promise;
    expect(done).toMatchObject({ id: 'order-7', deliveries: 2 });
    expect(done.pid).not.toBe(holder?.pid);
    const survivor = pool.find((child) => child !== holder);
    // The survivor got the remembered result: the pid of the member that ran the effect.
    expect(survivor?.lines).toContain(`charged order-7 by ${holder?.pid} ${survivor?.pid} 2`);
    const raw = rawClient();
    expect(await raw.lrange(`${namespace}:effects`, 0, -1)).toEqual(['order-7']);
    await stopped(pool.filter((child) => child !== holder));
  });

  it('with claimAfterMs, takes a message from a member that is alive but stuck', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const handled = deferred<Done>();
    await collector(system, (done) => {
      handled.resolve(done);
    });
    const pool = members(namespace, 2, { PRESENCE_INTERVAL_MS: '200', CLAIM_AFTER_MS: '600' });
    await ready(pool);
    await system.tell('work', 'hold', 'stuck-1');
    const holding = await Promise.race(
      pool.map((child) => child.waitForLine(/^holding stuck-1 \d+ 1/)),
    );
    const done = await handled.promise;
    expect(done.deliveries).toBe(2);
    // Still alive, still stuck: taken over all the same.
    const holder = pool.find((child) => holding.includes(` ${child.pid} `));
    expect(holder?.process.exitCode).toBeNull();
    await stopped(pool);
  });

  it('does not run a slow handler twice while its process is alive', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const handled = deferred<Done>();
    await collector(system, (done) => {
      handled.resolve(done);
    });
    const pool = members(namespace, 2, { PRESENCE_INTERVAL_MS: '200' });
    await ready(pool);
    // Far longer than the scans (200 ms) and the staleness (400 ms) of the members.
    await system.tell('work', 'slow', { id: 'slow-1', ms: 3000 });
    const done = await handled.promise;
    expect(done.deliveries).toBe(1);
    const started = pool.flatMap((child) =>
      child.lines.filter((line) => line.startsWith('slow slow-1')),
    );
    expect(started).toHaveLength(1);
    await stopped(pool);
  });

  it('shares 10,000 messages among 4 members, each handled exactly once, and trims them', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const seen = new Map<number, number>();
    const pids = new Set<number>();
    const all = deferred();
    await collector(system, ({ id, pid }) => {
      seen.set(Number(id), (seen.get(Number(id)) ?? 0) + 1);
      pids.add(pid);
      if (seen.size === 10_000) all.resolve();
    });
    const pool = members(namespace, 4);
    await ready(pool);
    for (let start = 0; start < 10_000; start += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => system.tell('work', 'job', start + i)),
      );
    }
    await all.promise;
    await stopped(pool);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(seen.size).toBe(10_000);
    expect(pids.size).toBe(4);
    const raw = rawClient();
    expect(await raw.xlen(`${namespace}:inbox:{work}`)).toBe(0);
    const pending = await raw.xpending(`${namespace}:inbox:{work}`, 'work');
    expect(pending[0]).toBe(0);
  }, 60_000);
});
