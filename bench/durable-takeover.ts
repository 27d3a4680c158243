/**
 * `npm run bench:takeover [-- --rounds 5]`: how long after `kill -9` of a
 * durable pool member the message it was handling is handled by another
 * member, with the default presence interval (2 s). Two members
 * (test/fixtures/pool-worker.ts) on a redis-server of its own; the member
 * holding a `hold` message (it never finishes its first delivery) is killed,
 * and the time until the other one reports the message done is printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ActorSystem, defineActor, startRedisServer } from 'redis-actors';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A pool member process and a way to wait for one of its lines. */
function member(url: string, namespace: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'test/fixtures/pool-worker.ts'],
    {
      cwd: repoRoot,
      env: { ...process.env, REDIS_URL: url, REDIS_ACTORS_NAMESPACE: namespace },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n'));
    for (const wake of waiting) wake();
  });
  const line = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const found = lines.find((each) => pattern.test(each));
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiting.delete(wake);
          resolve();
        };
        waiting.add(wake);
      });
    }
  };
  return { child, line };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-bench-takeover-'));
const redis = await startRedisServer({ dir });
const results: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const namespace = `takeover${round}x${process.pid}`;
    const system = await ActorSystem.start({ url: redis.url, namespace, logger: quiet });
    let doneAt = 0;
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    await system.spawn(
      defineActor({
        handlers: {
          done: () => {
            doneAt = performance.now();
            finished();
          },
        },
      }),
      { name: 'collector' },
    );
    const members = [member(redis.url, namespace), member(redis.url, namespace)];
    try {
      await Promise.all(members.map((each) => each.line(/^ready /)));
      await system.tell('work', 'hold', 'job');
      const holding = await Promise.race(members.map((each) => each.line(/^holding job \d+ 1/)));
      const holder = members.find((each) => holding.includes(` ${each.child.pid} `));
      const killedAt = performance.now();
      holder?.child.kill('SIGKILL');
      await done;
      results.push(Math.round(doneAt - killedAt));
    } finally {
      for (const each of members) each.child.kill('SIGKILL');
      await system.stop();
    }
  }
  console.log(
    `durable takeover after kill -9 of the member holding a message (presence interval 2 s), ms: ${results.join(', ')}`,
  );
} finally {
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
