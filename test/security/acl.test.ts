/**
 * Per-namespace Redis ACL users (`redis-actors acl <ns> --apply`), part 1:
 * everything the framework does works as a namespace's user and nothing else.
 * A redis-server of this file's own; the users are made with the built CLI as
 * the `default` user, then every system, child and CLI run connects as `ua`
 * (namespace A) or `ui` (namespace I, with --redis-ipc). Isolation and the
 * commands the ACL refuses are in acl-isolation.test.ts.
 */
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ActorSystem,
  type ActorSystemOptions,
  type ChildInfo,
  NameTakenError,
  PermissionError,
  Supervisor,
  defineActor,
} from '../../src/index.js';
import { type IpcMessage, RedisIpc, serveActor } from '../../src/redis-ipc/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  deferred,
  runCommand,
  uniqueNamespace,
} from '../helpers.js';
import { type AclRedis, refusedSinceLast, runCli, startAclRedis } from './fixtures/acl-redis.js';

const A = uniqueNamespace();
const I = uniqueNamespace();
const MB = 1024 * 1024;
/** redis-ipc names are global: this file's own components. */
const ID = nanoid(6).replace(/[^\w]/g, 'x');
const PRINTER = `printer-${ID}`;
let redis: AclRedis;
let started = false;

beforeAll(async () => {
  assertBuildIsCurrent();
  redis = await startAclRedis([
    { user: 'ua', namespace: A },
    { user: 'ui', namespace: I, redisIpc: true, components: PRINTER },
  ]);
  started = true;
});

afterAll(async () => {
  if (started) await redis.stop();
});

/** An actor system as `user`, stopped when the test ends. */
async function systemAs(user: string, options: ActorSystemOptions): Promise<ActorSystem> {
  const system = await ActorSystem.start({
    url: redis.url(user),
    logger: captureLogger(),
    ...options,
  });
  onTestFinished(() => system.stop());
  return system;
}

const notes: unknown[] = [];
const echo = defineActor({
  handlers: {
    echo: (body: unknown) => body,
    note: (body: unknown) => {
      notes.push(body);
    },
    notes: () => notes,
  },
});

describe('a namespace user made by `redis-actors acl --apply`', () => {
  it('the ACL of the users: keys and channels of their namespace only, no category', async () => {
    const admin = redis.raw();
    const ua = (await admin.call('ACL', 'GETUSER', 'ua')) as unknown[];
    const field = (name: string): unknown => ua[ua.indexOf(name) + 1];
    expect(field('keys')).toBe(`~${A}:*`);
    expect(field('channels')).toBe(`&${A}:*`);
    expect(String(field('commands'))).toMatch(/^-@all \+/);
    expect(String(field('commands'))).not.toMatch(/\+@/);
    expect(
      await redis
        .raw('ua')
        .call('ACL', 'WHOAMI')
        .catch((error: unknown) => (error as Error).message),
    ).toMatch(/^NOPERM/);
  });

  it('`acl` prints the line without --apply, and refuses bad arguments with exit 2', async () => {
    const printed = await runCli(['acl', A, '--user', 'ua'], {});
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(printed.stdout).toMatch(
      new RegExp(`^ACL SETUSER ua reset on nopass ~${A}:\\* resetchannels &${A}:\\* \\+select `),
    );
    expect(printed.stdout).not.toMatch(/@|~queues|&channel/);
    for (const args of [
      ['acl'],
      ['acl', `${A}:x`],
      ['acl', A, '--user', 'a b'],
      ['acl', A, '--allow', '~*'],
      ['acl', A, '--redis-ipc-components', 'printer*'],
    ]) {
      expect({ args, code: (await runCli(args, {})).code }).toEqual({ args, code: 2 });
    }
  });

  it('runs systems, names, ask/tell, claim checks, registry, topics, shared values and the monitor as ua', async () => {
    await refusedSinceLast(redis.raw());
    // Namespace by option here; by REDIS_ACTORS_NAMESPACE for the CLI and the children.
    const server = await systemAs('ua', { namespace: A });
    const client = await systemAs('ua', { namespace: A });
    const ref = await server.spawn(echo, { name: 'echo' });
    expect(ref.address).toBe(server.address);

    // ask and tell between two systems, by name and by address
    expect(await client.ask('echo', 'echo', { hi: 1 })).toEqual({ hi: 1 });
    expect(await client.ask(server.address, 'echo', 'by address')).toBe('by address');
    await client.tell('echo', 'note', 'told');
    expect(await client.ask('echo', 'notes')).toEqual(['told']);

    // A message over claimCheckBytes (1 MiB) both ways: SET PX, PUBLISH of a stub, GETRANGE, DEL.
    const stub = deferred<string>();
    const spy = redis.raw();
    spy.on('message', (_channel: string, text: string) => {
      if (text.includes('"claim"')) stub.resolve(text);
    });
    await spy.subscribe(`${A}:echo`);
    const big = Buffer.alloc(2 * MB, 7);
    const back = await client.ask<Buffer>('echo', 'echo', big);
    expect(Buffer.compare(back, big)).toBe(0);
    const announced = JSON.parse(await stub.promise) as { claim: { key: string; size: number } };
    expect(announced.claim.key.startsWith(`${A}:claim:`)).toBe(true);
    expect(announced.claim.size).toBeGreaterThan(2 * MB);
    expect(await redis.raw().keys(`${A}:claim:*`)).toEqual([]);

    // registry
    const listed = await client.registry.list();
    expect(listed.map((info) => [info.name, info.address])).toContainEqual([
      'echo',
      server.address,
    ]);
    expect(await client.registry.lookup('echo')).toMatchObject({ address: server.address });

    // topics
    const received = deferred<unknown>();
    await server.topic('news').subscribe((value) => {
      received.resolve(value);
    });
    expect(await client.topic('news').publish({ headline: 'acl' })).toBe(1);
    expect(await received.promise).toEqual({ headline: 'acl' });

    // shared values: set (EVALSHA, then EVAL on a fresh script cache), get, watch
    const watched = deferred<unknown>();
    await client.values('model').watch('angle', (value) => {
      watched.resolve(value);
    });
    await server.values('model').setMany({ angle: 0.25, label: 'arm' });
    expect(await watched.promise).toBe(0.25);
    expect(await client.values('model').get('angle')).toBe(0.25);
    expect(await client.values('model').getAll()).toEqual({ angle: 0.25, label: 'arm' });
    await client.values('model').delete('label');
    expect(await server.values('model').getMany(['angle', 'label'])).toEqual({ angle: 0.25 });

    // system.monitor and a second, unnamed actor
    const seen = deferred<string>();
    // A namespace user may not MONITOR: the pattern subscription, chosen, leaves no ACL LOG entry.
    const stopMonitor = await client.monitor(
      (event) => {
        const envelope = event.envelope;
        if (envelope?.kind === 'ask' && envelope.type === 'ping') seen.resolve(envelope.to);
      },
      { mode: 'psubscribe' },
    );
    const second = await server.spawn(defineActor({ handlers: { ping: () => 'pong' } }));
    expect(await client.ask(second.address, 'ping')).toBe('pong');
    expect(await seen.promise).toBe(second.address);
    await stopMonitor();
    await server.stopActor(second);

    // A name held by a live actor (the claim script's PUBSUB NUMSUB and PTTL) is refused as taken.
    await expect(client.spawn(echo, { name: 'echo' })).rejects.toBeInstanceOf(NameTakenError);
    // A URL with a database (SELECT): a whole namespace in database 1.
    const inDb1 = await systemAs('ua', { namespace: A, url: `${redis.url('ua')}/1` });
    const askerInDb1 = await systemAs('ua', { namespace: A, url: `${redis.url('ua')}/1` });
    await inDb1.spawn(echo, { name: 'echo-in-db1' });
    expect(await askerInDb1.ask('echo-in-db1', 'echo', 'in db 1')).toBe('in db 1');

    // Stopping (unsubscribe, presence release, QUIT) is refused nothing either.
    await Promise.all([server.stop(), client.stop(), inDb1.stop(), askerInDb1.stop()]);
    expect(await refusedSinceLast(redis.raw())).toEqual([]);
  });

  it('supervises a tree of child processes, all connecting as ua', async () => {
    await refusedSinceLast(redis.raw());
    const system = await systemAs('ua', { namespace: A });
    const client = await systemAs('ua', { namespace: A });
    const supervisor = await Supervisor.start(system, { output: () => undefined });
    onTestFinished(() => supervisor.stop());
    const children = await Promise.all(
      ['w1', 'w2'].map((name) => supervisor.spawn({ name, module: 'test/fixtures/worker.ts' })),
    );
    for (const child of children) {
      expect(await client.ask(child.name, 'pid')).toBe(child.pid);
    }
    // Every connection of the namespace, the children's included, is ua's.
    const connections = String(await redis.raw().client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${A}:`));
    for (const child of children) {
      expect(connections.filter((line) => line.includes(`-${child.pid}:`))).toHaveLength(2);
    }
    expect(connections.filter((line) => !line.includes(' user=ua '))).toEqual([]);
    // A child killed with -9: its name is released (a script of the supervisor) and reclaimed.
    const restarted = new Promise<ChildInfo>((resolve) => {
      supervisor.on('child-started', (child) => {
        if (child.name === 'w1') resolve(child);
      });
    });
    process.kill(children[0]?.pid ?? 0, 'SIGKILL');
    const again = await restarted;
    expect(again.pid).not.toBe(children[0]?.pid);
    expect(await client.ask('w1', 'pid')).toBe(again.pid);
    await supervisor.stop();
    expect(await refusedSinceLast(redis.raw())).toEqual([]);
  });

  it('the CLI as ua: ls, ask, tell and monitor', async () => {
    await refusedSinceLast(redis.raw());
    const server = await systemAs('ua', { namespace: A });
    await server.spawn(echo, { name: 'cli-target' });
    const env = redis.env('ua', A);

    const ls = await runCli(['ls', '--json'], env);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    const listed = JSON.parse(ls.stdout) as { name?: string; health?: { connected: boolean } }[];
    expect(listed.find((actor) => actor.name === 'cli-target')?.health).toMatchObject({
      connected: true,
    });
    expect(await runCli(['ask', 'cli-target', 'echo', '"via cli"'], env)).toMatchObject({
      code: 0,
      stdout: '"via cli"',
    });
    expect(await runCli(['tell', 'cli-target', 'note', '"cli note"'], env)).toMatchObject({
      code: 0,
    });
    expect(await server.ask('cli-target', 'notes')).toContain('cli note');

    const monitor = runCommand(
      'node',
      ['dist/src/cli/main.js', 'monitor', '--mode', 'psubscribe', '--json'],
      env,
    );
    await monitor.waitForLine(/^monitoring namespace/);
    await server.tell('cli-target', 'note', 'monitored');
    const line = await monitor.waitForLine(/"monitored"|"type":"note"/);
    expect(JSON.parse(line)).toMatchObject({ kind: 'tell', to: 'cli-target', type: 'note' });
    monitor.signalGroup('SIGINT');
    await monitor.exited;
    expect(await refusedSinceLast(redis.raw())).toEqual([]);
  });
});

describe('a namespace user with --redis-ipc', () => {
  it('serves and sends redis-ipc commands, settings, status, events and debug as ui', async () => {
    await refusedSinceLast(redis.raw());
    const connect = async (component: string) => {
      const ipc = await RedisIpc.connect({
        url: redis.url('ui'),
        component,
        logger: captureLogger(),
      });
      onTestFinished(() => ipc.close());
      return ipc;
    };
    const printer = await connect(PRINTER);
    const panel = await connect(`panel-${ID}`);
    await printer.serveCommands((command) => ({ printed: command.file }), {
      subqueues: [undefined, 'urgent'],
    });
    // BLPOP on a dedicated connection, RPUSH of the command and of its result.
    expect(await panel.sendCommand(PRINTER, { file: 'a.txt' })).toMatchObject({
      printed: 'a.txt',
    });
    expect(
      await panel.sendCommand(PRINTER, { file: 'b.txt' }, { subqueue: 'urgent' }),
    ).toMatchObject({ printed: 'b.txt' });

    await printer.settings().setAll({ paper: 'A4', copies: 2 });
    expect(await panel.settings(PRINTER).getAll()).toEqual({ paper: 'A4', copies: '2' });
    await printer.status().set('state', 'idle');
    expect(await panel.status(PRINTER).get('state')).toBe('idle');

    // Events and debug of one component (--redis-ipc-components), and of all.
    const byComponent = deferred<IpcMessage>();
    const ofAll = deferred<IpcMessage>();
    await panel.subscribeEvents({ component: PRINTER }, (message) => {
      byComponent.resolve(message);
    });
    await panel.subscribeEvents({}, (message) => {
      ofAll.resolve(message);
    });
    expect(await printer.publishEvent({ text: 'jam' }, { subchannel: 'warnings' })).toBe(2);
    expect(await byComponent.promise).toMatchObject({ text: 'jam', component: PRINTER });
    expect(await ofAll.promise).toMatchObject({ text: 'jam' });
    const debug = deferred<string>();
    const allDebug = deferred<string>();
    await panel.subscribeDebug({ component: PRINTER }, (message) => {
      debug.resolve(message.message);
    });
    await panel.subscribeDebug({}, (message) => {
      allDebug.resolve(message.message);
    });
    expect(await printer.debug('toner low')).toBe(true);
    expect(await debug.promise).toBe('toner low');
    expect(await allDebug.promise).toBe('toner low');
    // A component not in --redis-ipc-components: its patterns are not in the ACL.
    await expect(
      panel.subscribeEvents({ component: `other-${ID}` }, () => undefined),
    ).rejects.toMatchObject({ name: 'PermissionError', command: 'PSUBSCRIBE', user: 'ui' });

    // An actor served as a redis-ipc component, its system in namespace I as ui.
    const system = await systemAs('ui', { namespace: I });
    await system.spawn(echo, { name: 'ipc-echo' });
    const served = await connect(`served-${ID}`);
    await serveActor(served, system, 'ipc-echo');
    expect(await panel.sendCommand(served.component, { command: 'echo', n: 3 })).toMatchObject({
      n: 3,
    });
    // close() ends the BLPOP of its command server with CLIENT UNBLOCK (a refusal would be swallowed).
    await Promise.all([printer.close(), panel.close(), served.close(), system.stop()]);
    expect(await refusedSinceLast(redis.raw())).toEqual([
      // Refused above, on purpose, once for each of the two patterns.
      expect.stringMatching(new RegExp(`^ui channel channel\\.events\\.other-${ID}`)),
      expect.stringMatching(new RegExp(`^ui channel channel\\.events\\.other-${ID}`)),
    ]);
  });

  it('without --redis-ipc, redis-ipc is refused with a PermissionError naming the user', async () => {
    const ipc = await RedisIpc.connect({
      url: redis.url('ua'),
      component: `c-${ID}`,
      logger: captureLogger(),
    });
    onTestFinished(() => ipc.close());
    const refused = await ipc
      .settings()
      .set('x', 1)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermissionError);
    expect(refused).toMatchObject({ command: 'HSET', user: 'ua' });
  });

  it('a user that may not SELECT the URL\'s database gets a PermissionError naming SELECT, not "no Redis"', async () => {
    const admin = redis.raw();
    const password = new URL(redis.url('ua')).password;
    await admin.call(
      'ACL',
      'SETUSER',
      'noselect',
      'reset',
      'on',
      `>${password}`,
      '~*',
      '&*',
      '+@all',
      '-select',
    );
    onTestFinished(async () => {
      await admin.call('ACL', 'DELUSER', 'noselect');
    });
    const refused = await ActorSystem.start({
      url: `${redis.url('noselect')}/1`,
      namespace: A,
      logger: captureLogger(),
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermissionError);
    expect(refused).toMatchObject({ command: 'SELECT', user: 'noselect' });
  });
});
