/**
 * Per-namespace Redis ACL users, part 2: what a namespace's user may not do.
 * `ub` (namespace B) is refused A's keys and channels, and the framework
 * reports each refusal as a PermissionError naming the command and the user
 * (the CLI exits 7); no user made by `redis-actors acl` may run a dangerous
 * or server-wide command, even with `--allow @all`; and what still leaks
 * between namespaces under this ACL is pinned down here (docs/SECURITY.md).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, PermissionError, defineActor } from '../../src/index.js';
import { assertBuildIsCurrent, captureLogger, uniqueNamespace } from '../helpers.js';
import {
  type AclRedis,
  REDIS_MAJOR,
  allowedCommands,
  dryRun,
  runCli,
  startAclRedis,
} from './fixtures/acl-redis.js';

const [A, B, C, X] = [uniqueNamespace(), uniqueNamespace(), uniqueNamespace(), uniqueNamespace()];
let redis: AclRedis;
let a: ActorSystem;
let admin: Redis;
/** What beforeAll started, stopped by afterAll last first (also when beforeAll failed midway). */
const started: (() => Promise<void>)[] = [];

beforeAll(async () => {
  assertBuildIsCurrent();
  redis = await startAclRedis([
    { user: 'ua', namespace: A },
    { user: 'ub', namespace: B },
    { user: 'ui', namespace: C, redisIpc: true },
    // Whatever --allow adds, the never-granted commands stay refused.
    { user: 'uall', namespace: C, redisIpc: true, allow: '@all' },
    { user: 'ux', namespace: X },
  ]);
  started.push(() => redis.stop());
  admin = redis.raw();
  a = await ActorSystem.start({ url: redis.url('ua'), namespace: A, logger: captureLogger() });
  started.push(() => a.stop());
  await a.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), { name: 'vault' });
  await a.values('secrets').set('pin', 1234);
});

afterAll(async () => {
  for (const stop of started.reverse()) await stop();
});

/** The error `promise` rejects with (fails the test if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as Error,
  );
}

/** A PermissionError of the framework, as a user should read it. */
function expectPermissionError(error: unknown, command: string, user: string): void {
  expect(error).toBeInstanceOf(PermissionError);
  expect(error).toMatchObject({ code: 'PERMISSION_DENIED', command, user });
  const { message } = error as Error;
  expect(message).toContain(`Redis user "${user}" may not run ${command} (NOPERM`);
  expect(message).toContain(`redis-actors acl <namespace> --user ${user} --apply`);
  expect(message).toMatch(/Connect in the namespace this user was made for/);
  expect(message).not.toMatch(/redis-server runs/);
}

const NOPERM = /^NOPERM /;
const SCRIPT_REFUSED = /The user executing the script can't/;

describe('isolation between namespace users', () => {
  it('ub may not read or write A’s keys, with no hint whether a key exists', async () => {
    const ub = redis.raw('ub');
    const held = `${A}:name:{vault}`;
    expect(await admin.exists(held, `${A}:values:secrets`, `${A}:processes`)).toBe(3);
    const reads = [
      ub.get(held),
      ub.get(`${A}:name:{nobody}`),
      ub.hgetall(`${A}:values:secrets`),
      ub.zrangebyscore(`${A}:processes`, '-inf', '+inf'),
      ub.mget(`${B}:ok`, held),
    ];
    const messages = (await Promise.all(reads.map(refusal))).map((error) => error.message);
    expect(new Set(messages)).toEqual(
      new Set(['NOPERM this user has no permissions to access one of the keys used as arguments']),
    );
    const writes = [
      ub.set(held, 'ub|stolen'),
      ub.del(held),
      ub.hset(`${A}:values:secrets`, 'pin', '0'),
      ub.pexpire(`${A}:processes`, 1),
      ub.eval('return 1', 1, held),
    ];
    for (const error of await Promise.all(writes.map(refusal))) {
      expect(error.message).toMatch(NOPERM);
    }
    // Keys a script did not declare are checked when it touches them.
    expect((await refusal(ub.eval(`return redis.call('GET', '${held}')`, 0))).message).toMatch(
      SCRIPT_REFUSED,
    );
    expect(await admin.get(held)).toMatch(new RegExp(`^${a.address}\\|`));
    expect(await a.values('secrets').get('pin')).toBe(1234);
  });

  it('ub may not publish or subscribe to A’s channels, nor to patterns reaching them', async () => {
    const ub = redis.raw('ub');
    expect((await refusal(ub.publish(`${A}:vault`, '{"forged":true}'))).message).toMatch(NOPERM);
    expect((await refusal(ub.publish(`${A}:values:secrets`, '{}'))).message).toMatch(NOPERM);
    for (const channel of [`${A}:vault`, `${A}:${a.address}`, `${A}:topic:news`]) {
      expect((await refusal(redis.raw('ub').subscribe(channel))).message).toMatch(NOPERM);
    }
    for (const pattern of [`${A}:*`, '*', `${A.slice(0, 3)}*`, '__keyspace@0__:*']) {
      expect((await refusal(redis.raw('ub').psubscribe(pattern))).message).toMatch(NOPERM);
    }
    expect(await redis.raw('ub').subscribe(`${B}:own`)).toBe(1);
    expect(await a.ask('vault', 'echo', 'still mine')).toBe('still mine');
  });

  it('the framework reports each refusal as a PermissionError naming the command and the user', async () => {
    // An actor system of ub in namespace A: its first step, the address claim, is refused.
    const start = await refusal(
      ActorSystem.start({ url: redis.url('ub'), namespace: A, logger: captureLogger() }),
    );
    expectPermissionError(start, 'EVALSHA', 'ub');
    // The failed start left no connection of ub open.
    await expect
      .poll(async () =>
        ((await admin.client('LIST')) as string)
          .split('\n')
          .filter((line) => line.includes(` name=${A}:`) && line.includes(' user=ub ')),
      )
      .toEqual([]);

    // In its own namespace ub works, but a command on A's keys is refused.
    const b = await ActorSystem.start({
      url: redis.url('ub'),
      namespace: B,
      logger: captureLogger(),
    });
    onTestFinished(() => b.stop());
    expectPermissionError(await refusal(b.command(['GET', `${A}:name:{vault}`])), 'GET', 'ub');
    expectPermissionError(await refusal(b.command(['KEYS', '*'])), 'KEYS', 'ub');
    expect(await b.registry.list()).toEqual([]);
  });

  it('the CLI as ub in namespace A exits 7 (permission) with the PermissionError, for every command', async () => {
    const env = redis.env('ub', A);
    for (const args of [
      ['ls'],
      ['ask', 'vault', 'echo', '"x"'],
      ['tell', 'vault', 'echo', '"x"'],
      ['monitor'],
    ]) {
      const run = await runCli(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 7 });
      expect(run.stderr).toMatch(
        /^redis-actors: Redis user "ub" may not run (EVALSHA|PSUBSCRIBE) /,
      );
      expect(run.stderr).toContain('redis-actors acl <namespace> --user ub --apply');
      expect(run.stderr).not.toMatch(/redis-server runs|PASSWORD|acl-test-Pw/);
    }
  });

  it('a refusal inside a Lua script (Redis says ERR, not NOPERM) is a PermissionError too', async () => {
    // ux: the namespace's ACL without PUBSUB NUMSUB, which the name-claim script runs
    // when someone else holds the name.
    await admin.call('ACL', 'SETUSER', 'ux', '-pubsub|numsub');
    await admin.set(`${X}:name:{taken}`, 'elsewhere-1|nonce');
    const x = await ActorSystem.start({
      url: redis.url('ux'),
      namespace: X,
      logger: captureLogger(),
    });
    onTestFinished(() => x.stop());
    const error = await refusal(x.spawn(defineActor({ handlers: {} }), { name: 'taken' }));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ command: 'EVALSHA', user: 'ux' });
    expect(error.message).toMatch(SCRIPT_REFUSED);
  });

  it('a refused SUBSCRIBE (on the subscriber connection) is a PermissionError, and exit 7', async () => {
    // ux loses the namespace's channels: the mailbox's SUBSCRIBE is refused.
    await admin.call('ACL', 'SETUSER', 'ux', 'resetchannels');
    const start = await refusal(
      ActorSystem.start({ url: redis.url('ux'), namespace: X, logger: captureLogger() }),
    );
    expectPermissionError(start, 'SUBSCRIBE', 'ux');
    const cli = await runCli(['ls'], redis.env('ux', X));
    expect(cli.code).toBe(7);
    expect(cli.stderr).toMatch(/^redis-actors: Redis user "ux" may not run SUBSCRIBE \(NOPERM/);
  });
});

/** Commands no namespace user may run: [command, …arguments] for ACL DRYRUN. */
const NEVER: string[][] = [
  ['FLUSHALL'],
  ['FLUSHDB'],
  ['CONFIG', 'GET', '*'],
  ['CONFIG', 'SET', 'maxmemory', '1'],
  ['KEYS', '*'],
  ['SCAN', '0'],
  ['RANDOMKEY'],
  ['DBSIZE'],
  ['INFO'],
  ['DEBUG', 'SLEEP', '0'],
  ['SHUTDOWN'],
  ['MONITOR'],
  ['ACL', 'LIST'],
  ['ACL', 'SETUSER', 'ua', '+@all'],
  ['CLIENT', 'LIST'],
  ['CLIENT', 'INFO'],
  ['CLIENT', 'KILL', 'ID', '1'],
  ['CLIENT', 'PAUSE', '1000'],
  ['CLIENT', 'TRACKING', 'ON', 'BCAST'],
  ['CLIENT', 'NO-EVICT', 'ON'],
  ['PUBSUB', 'CHANNELS'],
  ['PUBSUB', 'NUMPAT'],
  ['PUBSUB', 'SHARDCHANNELS'],
  ['SCRIPT', 'FLUSH'],
  ['SCRIPT', 'KILL'],
  ['SCRIPT', 'DEBUG', 'YES'],
  ['FUNCTION', 'FLUSH'],
  ['FUNCTION', 'LIST'],
  ['FUNCTION', 'DELETE', 'lib'],
  ['MEMORY', 'STATS'],
  ['SLOWLOG', 'GET'],
  ['LATENCY', 'LATEST'],
  ['SWAPDB', '0', '1'],
  ['BGSAVE'],
  ['SAVE'],
  ['REPLICAOF', 'NO', 'ONE'],
  ['MODULE', 'LIST'],
  ['CLUSTER', 'GETKEYSINSLOT', '0', '10'],
  ['SORT', 'x', 'BY', 'nosort', 'GET', '*'],
  ['MIGRATE', '127.0.0.1', '1', 'x', '0', '1'],
  ['RESTORE', 'x', '0', 'payload'],
];

describe.skipIf(REDIS_MAJOR < 7)('commands the generated ACL never grants (ACL DRYRUN)', () => {
  it(`ACL DRYRUN refuses FLUSHALL, CONFIG, KEYS, DEBUG, SHUTDOWN, MONITOR, … for every user, even --allow @all`, async () => {
    for (const [user, namespace] of [
      ['ua', A],
      ['ub', B],
      ['ui', C],
      ['uall', C],
    ] as const) {
      for (const command of NEVER) {
        // Keys of the user's own namespace: refused for the command alone.
        const args = command.map((arg) => (arg === 'x' ? `${namespace}:x` : arg));
        const answer = await dryRun(admin, user, args);
        expect({ user, args, answer }).toEqual({
          user,
          args,
          answer: expect.stringMatching(/^This user has no permissions to run the '/) as unknown,
        });
      }
    }
    // The --allow @all user does get what it asked for, on its own keys only.
    expect(await dryRun(admin, 'uall', ['LPUSH', `${C}:list`, '1'])).toBe('OK');
    expect(await dryRun(admin, 'uall', ['LPUSH', `${A}:list`, '1'])).toMatch(/no permissions/);
  });

  it('ua may run exactly the commands the framework sends, on its own keys only', async () => {
    const framework = [
      ...['client|id', 'client|setname', 'auth', 'hello', 'ping', 'quit', 'reset', 'select'],
      ...['get', 'set', 'del', 'mget', 'getrange', 'pexpire', 'pttl'],
      ...['zadd', 'zrem', 'zrangebyscore', 'zremrangebyscore'],
      ...['hset', 'hget', 'hmget', 'hgetall', 'hdel', 'hincrby', 'hkeys', 'hstrlen'],
      ...['publish', 'subscribe', 'unsubscribe', 'punsubscribe', 'pubsub|numsub'],
      ...['exists', 'xadd', 'xlen', 'xreadgroup', 'xack', 'xdel', 'xpending', 'xclaim', 'xrange'],
      ...['xgroup|create', 'xgroup|delconsumer', 'lpush', 'llen', 'blpop'],
      ...['eval', 'evalsha'],
    ].sort();
    expect(await allowedCommands(admin, 'ua', `${A}:k`)).toEqual(framework);
    // PSUBSCRIBE only of a pattern the ACL lists as it is (the monitor's `<ns>:*`).
    expect(await dryRun(admin, 'ua', ['PSUBSCRIBE', `${A}:*`])).toBe('OK');
    expect(await dryRun(admin, 'ua', ['PSUBSCRIBE', `${A}:k*`])).toMatch(/no permissions/);
    // With B's keys and channels: only what takes none, or whose channels Redis does not check.
    const keyless = ['client|id', 'client|setname', 'auth', 'hello', 'ping', 'quit', 'reset'];
    expect(await allowedCommands(admin, 'ua', `${B}:k`)).toEqual(
      [
        ...keyless,
        'select',
        'unsubscribe',
        'punsubscribe',
        'pubsub|numsub',
        'eval',
        'evalsha',
        // Its keys follow STREAMS: with the key first, DRYRUN sees none (its own test below).
        'xreadgroup',
      ].sort(),
    );
    expect(await dryRun(admin, 'ua', ['EVAL', 'return 1', '1', `${B}:k`])).toMatch(
      /no permissions/,
    );
    const readGroup = (key: string) => ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', key, '>'];
    expect(await dryRun(admin, 'ua', readGroup(`${A}:inbox:{x}`))).toBe('OK');
    expect(await dryRun(admin, 'ua', readGroup(`${B}:inbox:{x}`))).toMatch(/no permissions/);
  });
});

describe('what still leaks between namespaces under this ACL', () => {
  it('PUBSUB NUMSUB tells ub whether any channel of A has subscribers (an actor is live)', async () => {
    const ub = redis.raw('ub');
    const counts = (await ub.call(
      'PUBSUB',
      'NUMSUB',
      `${A}:vault`,
      `${A}:${a.address}`,
      `${A}:gone`,
    )) as unknown[];
    expect(counts).toEqual([`${A}:vault`, 1, `${A}:${a.address}`, 1, `${A}:gone`, 0]);
    // Listing does not: channels, patterns, keys, clients and the keyspace's size are refused.
    for (const command of [
      ['PUBSUB', 'CHANNELS'],
      ['PUBSUB', 'NUMPAT'],
      ['SCAN', '0'],
      ['KEYS', '*'],
      ['DBSIZE'],
      ['RANDOMKEY'],
      ['CLIENT', 'LIST'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST'],
      ['INFO', 'keyspace'],
    ]) {
      expect((await refusal(ub.call(command[0] ?? '', ...command.slice(1)))).message).toMatch(
        NOPERM,
      );
    }
  });

  it('the script cache is shared: ub can tell whether anyone ran a script (by its SHA1)', async () => {
    const source = `return 'ran by ua ${A}'`;
    const sha = createHash('sha1').update(source).digest('hex');
    const ub = redis.raw('ub');
    expect((await refusal(ub.evalsha(sha, 0))).message).toMatch(/^NOSCRIPT/);
    await redis.raw('ua').eval(source, 0);
    expect(await ub.evalsha(sha, 0)).toBe(`ran by ua ${A}`);
    // Listing or flushing the cache is refused.
    expect((await refusal(ub.call('SCRIPT', 'EXISTS', sha))).message).toMatch(NOPERM);
    expect((await refusal(ub.call('SCRIPT', 'FLUSH'))).message).toMatch(NOPERM);
  });

  it('a --redis-ipc user may end any client’s blocking command (CLIENT UNBLOCK)', async () => {
    const victim = redis.raw();
    const id = await victim.client('ID');
    const blocked = victim.blpop(`${A}:queue`, 20);
    await expect
      .poll(async () => (await admin.client('LIST')) as string)
      .toMatch(new RegExp(`id=${id} .*cmd=blpop`));
    expect(await redis.raw('ui').call('CLIENT', 'UNBLOCK', String(id))).toBe(1);
    expect(await blocked).toBeNull();
    expect((await refusal(redis.raw('ua').call('CLIENT', 'UNBLOCK', String(id)))).message).toMatch(
      NOPERM,
    );
  });
});
