/**
 * `redis-actors spawn <module> --name w --count 2 --durable`: a supervised
 * pool, both children actors named w sharing its durable mailbox, listed by
 * `ls` as one row, answering asks by the name; a member killed -9 is
 * restarted and the pool goes on answering.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuildIsCurrent,
  isRunning,
  redisActorsCli,
  runRedisActorsCli,
  uniqueNamespace,
} from '../helpers.js';

const cli = redisActorsCli;
const run = (args: string[], namespace: string) => runRedisActorsCli(args, namespace);

beforeAll(() => {
  assertBuildIsCurrent();
});

describe('redis-actors spawn --count --durable', () => {
  it('runs a pool under one name, listed as one row, answering by the name', async () => {
    const namespace = uniqueNamespace();
    const spawned = cli(
      ['spawn', 'test/fixtures/worker.ts', '--name', 'w', '--count', '2', '--durable'],
      namespace,
    );
    await spawned.waitForLine(/^Ctrl-C stops them$/);
    const pids = (await spawned.waitForLines(/^spawned w-\d /, 2)).map((line) =>
      Number(/pid (\d+)/.exec(line)?.[1]),
    );
    const listing = await run(['ls'], namespace);
    expect(listing.code).toBe(0);
    const rows = listing.stdout.split('\n').filter((line) => line.startsWith('w '));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      new RegExp(`^w\\s+pool of 2\\s+\\S+\\s+(${pids[0]},${pids[1]}|${pids[1]},${pids[0]})\\s`),
    );

    const asked = await run(['ask', 'w', 'pid'], namespace);
    expect(asked.code).toBe(0);
    expect(pids).toContain(Number(asked.stdout));

    process.kill(pids[0] ?? 0, 'SIGKILL');
    await spawned.waitForLine(/^restarted w-1 /);
    const again = await run(['ask', 'w', 'echo', '"still here"'], namespace);
    expect(again.stdout).toBe('"still here"');

    spawned.signalGroup('SIGINT');
    await spawned.exited;
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });
});
