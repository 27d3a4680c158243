/** The `redis-actors` command line, run as users run it: `npx redis-actors …`, a real process. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, defineActor } from '../src/index.js';
import {
  deferred,
  isRunning,
  redisActorsCli,
  startSystem,
  uniqueNamespace,
  assertBuildIsCurrent,
} from './helpers.js';
import type { ActorListing } from '../src/cli/ls-command.js';

const cli = redisActorsCli;

async function run(args: string[], namespace: string, env: NodeJS.ProcessEnv = {}) {
  const child = cli(args, namespace, env);
  const { code } = await child.exited;
  const stderr = child.lines.filter(
    (line) => !child.stdout.includes(line) && !/Unknown (user|env) config/.test(line),
  );
  return { code, stdout: child.stdout.join('\n'), stderr: stderr.join('\n') };
}

async function withActors(namespace: string) {
  const system = await startSystem({ namespace, stopTimeoutMs: 200 });
  const told: unknown[] = [];
  const never = deferred();
  await system.spawn(
    defineActor({
      handlers: {
        echo: (body: unknown) => body,
        rich: () => ({
          when: new Date('2024-01-02T03:04:05.000Z'),
          big: 10n ** 20n,
          tags: new Set(['a']),
        }),
        note: (body: unknown) => {
          told.push(body);
        },
        told: () => told,
        fail: () => {
          throw new RangeError('out of range');
        },
      },
    }),
    { name: 'target' },
  );
  // A mailbox of its own: its handler never finishes.
  await system.spawn(defineActor({ handlers: { hang: () => never.promise } }), { name: 'hanger' });
  onTestFinished(() => {
    never.resolve();
  });
  return { system, told };
}

describe('redis-actors CLI', () => {
  beforeAll(assertBuildIsCurrent);

  it('asks an actor and prints the reply as JSON', async () => {
    const namespace = uniqueNamespace();
    await withActors(namespace);
    const echoed = await run(['ask', 'target', 'echo', '{"n":[1,2],"s":"héllo"}'], namespace);
    expect(echoed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(echoed.stdout)).toEqual({ n: [1, 2], s: 'héllo' });
    const rich = await run(['ask', 'target', 'rich'], namespace);
    expect(JSON.parse(rich.stdout)).toEqual({
      when: '2024-01-02T03:04:05.000Z',
      big: '100000000000000000000',
      tags: ['a'],
    });
  });

  it('tells an actor, exiting 0 once delivered', async () => {
    const namespace = uniqueNamespace();
    const { system } = await withActors(namespace);
    expect(await run(['tell', 'target', 'note', '"from the cli"'], namespace)).toMatchObject({
      code: 0,
      stdout: '',
    });
    expect(await system.ask('target', 'told')).toEqual(['from the cli']);
  });

  it('lists live actors with their health, as a table and as JSON', async () => {
    const namespace = uniqueNamespace();
    const { system } = await withActors(namespace);
    // The hanger is stuck in its first message with a second one waiting, yet it answers `health`.
    await system.tell('hanger', 'hang');
    await system.tell('hanger', 'hang');
    await expect.poll(() => system.health('hanger').mailboxDepth).toBe(1);
    const table = await run(['ls'], namespace);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.split('\n');
    expect(header).toMatch(
      /^NAME\s+ADDRESS\s+HOST\s+PID\s+UP\s+HEARTBEAT\s+REDIS\s+MAILBOX\s+PENDING\s+DROPPED$/,
    );
    const cells = rows.map((row) => row.split(/\s+/));
    expect(cells.map((row) => row.slice(0, 4))).toEqual([
      ['hanger', `${system.address}/hanger`, os.hostname(), String(process.pid)],
      ['target', system.address, os.hostname(), String(process.pid)],
    ]);
    // After NAME ADDRESS HOST PID UP and "<n>s ago": REDIS MAILBOX PENDING DROPPED.
    expect(cells.map((row) => row.slice(7, 9))).toEqual([
      ['ok', '1/10000'],
      ['ok', '0/10000'],
    ]);
    const json = await run(['ls', '--json'], namespace);
    const listed = JSON.parse(json.stdout) as ActorListing[];
    expect(listed.map((actor) => [actor.name, actor.address, actor.pid])).toEqual([
      ['hanger', `${system.address}/hanger`, process.pid],
      ['target', system.address, process.pid],
    ]);
    expect(listed[0]?.health).toMatchObject({
      connected: true,
      subscribed: true,
      mailboxDepth: 1,
      processing: 1,
    });
    expect(listed[0]?.health?.dropped.mailboxFull).toBe(0);
    expect(listed[1]?.health).toMatchObject({ mailboxDepth: 0, system: system.address });
    expect((await run(['ls'], uniqueNamespace())).stdout).toBe('no live actors in this namespace');
  });

  it('monitors decoded traffic with reply latency', async () => {
    const namespace = uniqueNamespace();
    const { system } = await withActors(namespace);
    const monitor = cli(['monitor', '--json'], namespace);
    await monitor.waitForLine(/^monitoring namespace/);
    await system.ask('target', 'echo', 'watched');
    const [askLine, replyLine] = (await monitor.waitForLines(/^\{/, 2)).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(askLine).toMatchObject({
      kind: 'ask',
      from: system.address,
      to: 'target',
      type: 'echo',
    });
    expect(replyLine).toMatchObject({
      kind: 'reply',
      to: system.address,
      type: 'echo',
      correlationId: askLine?.id,
    });
    expect(typeof replyLine?.latencyMs).toBe('number');
    const human = cli(['monitor'], namespace);
    await human.waitForLine(/^monitoring namespace/);
    await system.ask('target', 'echo', 1);
    expect(await human.waitForLine(/ reply /)).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}reply {3}\S+ -> \S+ {2}\(echo\) {2}\d+ B {2}\d+ ms$/,
    );
    monitor.signalGroup('SIGINT');
    await monitor.exited;
  });

  it('exits 3 on timeout, 4 when nobody listens, 5 on a remote error, 6 without Redis', async () => {
    const namespace = uniqueNamespace();
    await withActors(namespace);
    const timeout = await run(['ask', 'hanger', 'hang', '--timeout', '300'], namespace);
    expect(timeout.code).toBe(3);
    expect(timeout.stderr).toMatch(/got no reply within 300 ms/);
    const nobody = await run(['ask', 'no-such-actor', 'x'], namespace);
    expect(nobody.code).toBe(4);
    expect(nobody.stderr).toMatch(/nobody is listening on mailbox no-such-actor/);
    expect((await run(['tell', 'no-such-actor', 'x'], namespace)).code).toBe(4);
    const remote = await run(['ask', 'target', 'fail'], namespace);
    expect(remote.code).toBe(5);
    expect(remote.stderr).toMatch(/RangeError: out of range/);
    const noRedis = await run(['ls', '--url', 'unix:///nonexistent/redis.sock'], namespace);
    expect(noRedis.code).toBe(6);
    expect(noRedis.stderr).toMatch(/unix:\/\/\/nonexistent\/redis.sock/);
  });

  it('exits 2 with the reason on bad arguments', async () => {
    const namespace = uniqueNamespace();
    const cases: [string[], RegExp][] = [
      [['ask', 'target'], /ask needs <name\|address> and <type>/],
      [['ask', 'target', 'echo', '{oops'], /the body must be JSON/],
      [['ask', 'target', 'echo', '--timeout', '0'], /--timeout must be a positive integer/],
      [['ls', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['dance'], /unknown command "dance"/],
      [['spawn'], /spawn needs a <module>/],
      [
        ['spawn', 'actors/clock.ts', '--restart', 'sometimes'],
        /--restart must be permanent, transient or temporary/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await run(args, namespace);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('explains every command with --help', async () => {
    const namespace = uniqueNamespace();
    const main = await run(['--help'], namespace);
    expect(main.code).toBe(0);
    for (const command of ['broker', 'ls', 'ask', 'tell', 'monitor', 'spawn', 'dead']) {
      expect(main.stdout).toContain(`  ${command}`);
      const help = await run([command, '--help'], namespace);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: redis-actors ${command}`));
      expect(help.stdout).toContain('Exit codes:');
    }
  });

  it('spawns actors of a module under a supervisor, reachable by name, until Ctrl-C', async () => {
    const namespace = uniqueNamespace();
    const spawned = cli(['spawn', 'actors/clock.ts', '--name', 'tick', '--count', '2'], namespace);
    await spawned.waitForLine(/^Ctrl-C stops them$/);
    const pids = (await spawned.waitForLines(/^spawned tick-\d /, 2)).map((line) =>
      Number(/pid (\d+)/.exec(line)?.[1]),
    );
    for (const name of ['tick-1', 'tick-2']) {
      const reply = await run(['ask', name, 'time'], namespace);
      expect(reply.code).toBe(0);
      expect(Date.parse((JSON.parse(reply.stdout) as { iso: string }).iso)).toBeGreaterThan(0);
    }
    spawned.signalGroup('SIGINT');
    await spawned.waitForLines(/^tick-\d \(pid \d+\) stopped$/, 2);
    await spawned.exited;
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it('runs a private broker in the foreground and stops it on Ctrl-C', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-cli-broker-'));
    onTestFinished(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const broker = cli(['broker', '--dir', dir], uniqueNamespace(), { REDIS_URL: '' });
    const line = await broker.waitForLine(/^REDIS_URL=/);
    const url = line.slice('REDIS_URL='.length);
    expect(url).toBe(`unix://${dir}/redis.sock`);
    await broker.waitForLine(/Ctrl-C stops it/);
    const system = await ActorSystem.start({ url });
    await system.stop();
    const again = await run(['broker', '--dir', dir], uniqueNamespace(), { REDIS_URL: '' });
    expect(again).toMatchObject({ code: 0, stdout: `REDIS_URL=${url}` });
    expect(again.stderr).toMatch(/already runs/);
    broker.signalGroup('SIGINT');
    await broker.waitForLine(/^broker stopped$/);
    expect(fs.existsSync(`${dir}/redis.sock`)).toBe(false);
  });
});
