import fs from 'node:fs';
import os from 'node:os';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  type ChildExit,
  type ChildInfo,
  InvalidOptionError,
  NameTakenError,
  SpawnError,
  Supervisor,
  type SupervisorEvents,
  type SupervisorOptions,
  defineActor,
  runSupervisor,
} from '../src/index.js';
import {
  isRunning,
  rawClient,
  redisUrl,
  runTs,
  startSystem,
  uniqueNamespace,
  assertBuildIsCurrent,
} from './helpers.js';

const WORKER = 'test/fixtures/worker.ts';

interface Captured {
  line: string;
  stream: string;
  name: string;
  pid: number;
}

async function supervise(options: SupervisorOptions = {}) {
  const namespace = uniqueNamespace();
  const system = await startSystem({ namespace });
  const output: Captured[] = [];
  const supervisor = await Supervisor.start(system, {
    output: (line, stream, child) =>
      output.push({ line, stream, name: child.name, pid: child.pid }),
    ...options,
  });
  onTestFinished(() => supervisor.stop());
  const client = await startSystem({ namespace });
  return { system, supervisor, client, output, namespace };
}

/** Spawns children a, b and c, kills b, and waits until c (restarted last) is back. */
async function killTheMiddleOfThree(supervisor: Supervisor) {
  const before: ChildInfo[] = [];
  for (const name of ['a', 'b', 'c']) before.push(await supervisor.spawn({ name, module: WORKER }));
  const restartedC = next(supervisor, 'child-started', (child) => child.name === 'c');
  process.kill(before[1]?.pid ?? 0, 'SIGKILL');
  await restartedC;
  return { before, after: supervisor.children() };
}

type SupervisorEvent = keyof SupervisorEvents;
type Payload<Event extends SupervisorEvent> = SupervisorEvents[Event][0];

/** The payload of the next `event` that `matches`. */
function next<Event extends SupervisorEvent>(
  supervisor: Supervisor,
  event: Event,
  matches: (value: Payload<Event>) => boolean = () => true,
): Promise<Payload<Event>> {
  // Listening through the union of all events: TypeScript cannot narrow a generic event name.
  const name: SupervisorEvent = event;
  return new Promise((resolve) => {
    const listener = (value: Payload<SupervisorEvent>): void => {
      const payload = value as Payload<Event>; // `name` is `event`, so this is its payload
      if (!matches(payload)) return;
      supervisor.off(name, listener);
      resolve(payload);
    };
    supervisor.on(name, listener);
  });
}

/** Resolves with how long `pid` took to die, or rejects after `withinMs`. */
async function deathOf(pid: number, since: number, withinMs: number): Promise<number> {
  while (isRunning(pid)) {
    if (Date.now() - since > withinMs)
      throw new Error(`pid ${pid} still alive after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - since;
}

describe('supervisor', () => {
  beforeAll(assertBuildIsCurrent);

  it('spawns 8 children, each answering by name and by address, with a READY handshake', async () => {
    const { supervisor, client } = await supervise();
    const children = await Promise.all(
      Array.from({ length: 8 }, (_, i) => supervisor.spawn({ name: `w${i}`, module: WORKER })),
    );
    for (const [i, child] of children.entries()) {
      expect(child).toMatchObject({ name: `w${i}`, state: 'running', restarts: 0 });
      expect(child.address).toBe(`${os.hostname()}-${child.pid}`);
      expect(await client.ask(`w${i}`, 'pid')).toBe(child.pid);
      expect(await client.ask(child.address ?? '', 'echo', i)).toBe(i);
    }
  });

  it('restarts a child killed with kill -9: new pid, reachable under the same name', async () => {
    const { supervisor, client } = await supervise();
    const first = await supervisor.spawn({ name: 'phoenix', module: WORKER });
    const exited = next(supervisor, 'child-exited');
    const restarted = next(supervisor, 'child-started');
    process.kill(first.pid ?? 0, 'SIGKILL');
    expect(await exited).toMatchObject({
      name: 'phoenix',
      pid: first.pid,
      signal: 'SIGKILL',
      reason: 'exited',
    });
    const second = await restarted;
    expect(second.pid).not.toBe(first.pid);
    expect(second.restarts).toBe(1);
    expect(await client.ask('phoenix', 'pid')).toBe(second.pid);
  });

  it('reports a child that crashes on start with its exit code and stderr, and does not restart it', async () => {
    const { supervisor } = await supervise();
    let starts = 0;
    supervisor.on('child-started', () => starts++);
    const error = await supervisor
      .spawn({ name: 'doomed', module: WORKER, env: { CRASH_ON_START: '7' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnError);
    const spawnError = error as SpawnError;
    expect(spawnError).toMatchObject({
      reason: 'exited',
      exitCode: 7,
      signal: null,
      childName: 'doomed',
    });
    expect(spawnError.stderrTail).toEqual([
      'worker: refusing to start (CRASH_ON_START)',
      'worker: exiting with code 7',
    ]);
    expect(spawnError.message).toContain('exited with code 7');
    expect(spawnError.message).toContain('refusing to start');
    expect(supervisor.children()).toEqual([]);
    expect(starts).toBe(0);
  });

  it('kills a module that never sends READY and reports the timeout', async () => {
    const { supervisor } = await supervise();
    const error = await supervisor
      .spawn({ name: 'mute', module: 'test/fixtures/no-ready.ts', readyTimeoutMs: 2000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnError);
    expect(error).toMatchObject({ reason: 'ready-timeout', signal: 'SIGKILL' });
    expect((error as SpawnError).stderrTail).toContain('no-ready: I run, but I never say READY');
    expect(supervisor.children()).toEqual([]);
  });

  it('a supervisor that cannot start (its name is taken) stops the system it started', async () => {
    const namespace = uniqueNamespace();
    const holder = await startSystem({ namespace });
    await holder.spawn(defineActor({ handlers: {} }), { name: 'boss' });
    const error = await runSupervisor({
      name: 'boss',
      children: [],
      system: { url: redisUrl(), namespace },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameTakenError);
    // Only the holder's connections remain in the namespace: the supervisor's were closed.
    const clients = String(await rawClient().call('CLIENT', 'LIST'))
      .split('\n')
      .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith(`${namespace}:`));
    expect(clients.every((name) => name.startsWith(`${namespace}:${holder.address}:`))).toBe(true);
  });

  it('refuses a module path that does not exist with one clear error, spawning nothing', async () => {
    const { supervisor } = await supervise();
    const error = await supervisor
      .spawn({ name: 'ghost', module: 'actors/does-not-exist.ts' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(
      /^invalid child module: cannot find "actors\/does-not-exist.ts"; looked at /,
    );
    expect(supervisor.children()).toEqual([]);
  });

  it('kills a hung child (main thread stuck) and restarts it', async () => {
    const { supervisor, client } = await supervise({
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 3000,
      hangTimeoutMs: 1500,
    });
    const first = await supervisor.spawn({ name: 'stuck', module: WORKER, shutdownTimeoutMs: 500 });
    const exited = next(supervisor, 'child-exited');
    const restarted = next(supervisor, 'child-started');
    await client.tell('stuck', 'hang');
    // Its SIGTERM handler cannot run on a stuck main thread, so SIGKILL ends it.
    expect(await exited).toMatchObject({
      name: 'stuck',
      pid: first.pid,
      reason: 'hung',
      signal: 'SIGKILL',
    });
    const second = await restarted;
    expect(await client.ask('stuck', 'pid')).toBe(second.pid);
    expect(second.pid).not.toBe(first.pid);
  });

  it('does not restart a child that is CPU-busy for seconds but healthy', async () => {
    // A heartbeat deadline of 1 s is shorter than the 3 s of work: beats sent by
    // the main thread would be missed. The watchdog thread keeps beating.
    const { supervisor, client } = await supervise({
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 1000,
      hangTimeoutMs: 15_000,
    });
    const child = await supervisor.spawn({ name: 'cruncher', module: WORKER });
    const exits: ChildExit[] = [];
    supervisor.on('child-exited', (exit: ChildExit) => exits.push(exit));
    expect(await client.ask('cruncher', 'busy', 3000, { timeoutMs: 30_000 })).toBe(child.pid);
    expect(await client.ask('cruncher', 'pid')).toBe(child.pid);
    expect(exits).toEqual([]);
    expect(supervisor.child('cruncher')).toMatchObject({
      state: 'running',
      restarts: 0,
      pid: child.pid,
    });
  });

  it('one_for_all restarts every child when one dies', async () => {
    const { supervisor } = await supervise({ strategy: 'one_for_all' });
    const { before, after } = await killTheMiddleOfThree(supervisor);
    expect(after.map((child) => child.state)).toEqual(['running', 'running', 'running']);
    for (const [i, child] of after.entries()) expect(child.pid).not.toBe(before[i]?.pid);
    for (const old of before) expect(isRunning(old.pid ?? 0)).toBe(false);
  });

  it('rest_for_one restarts the dead child and those started after it', async () => {
    const { supervisor } = await supervise({ strategy: 'rest_for_one' });
    const { before, after } = await killTheMiddleOfThree(supervisor);
    expect(after[0]?.pid).toBe(before[0]?.pid);
    expect(after[1]?.pid).not.toBe(before[1]?.pid);
    expect(after[2]?.pid).not.toBe(before[2]?.pid);
    expect(after.map((child) => child.restarts)).toEqual([0, 1, 1]);
  });

  it('restarts transient children only after a failure, temporary children never', async () => {
    const { supervisor, client } = await supervise();
    await supervisor.spawn({ name: 'ok-transient', module: WORKER, restart: 'transient' });
    await supervisor.spawn({ name: 'bad-transient', module: WORKER, restart: 'transient' });
    await supervisor.spawn({ name: 'temporary', module: WORKER, restart: 'temporary' });
    const okExit = next(supervisor, 'child-exited', (exit) => exit.name === 'ok-transient');
    await client.tell('ok-transient', 'quit', 0);
    expect(await okExit).toMatchObject({ code: 0, reason: 'exited' });
    const restarted = next(supervisor, 'child-started', (child) => child.name === 'bad-transient');
    await client.tell('bad-transient', 'quit', 2);
    expect((await restarted).restarts).toBe(1);
    const temporaryExit = next(supervisor, 'child-exited', (exit) => exit.name === 'temporary');
    await client.tell('temporary', 'quit', 2);
    expect(await temporaryExit).toMatchObject({ code: 2 });
    // The restart of bad-transient was observed; temporary and ok-transient stay down.
    expect(supervisor.children().map((child) => [child.name, child.state, child.restarts])).toEqual(
      [
        ['ok-transient', 'stopped', 0],
        ['bad-transient', 'running', 1],
        ['temporary', 'stopped', 0],
      ],
    );
  });

  it('waits the backoff before a restart', async () => {
    const { supervisor } = await supervise({ backoff: { initialMs: 400 } });
    const first = await supervisor.spawn({ name: 'slowly-back', module: WORKER });
    const exited = next(supervisor, 'child-exited');
    const restarted = next(supervisor, 'child-started');
    process.kill(first.pid ?? 0, 'SIGKILL');
    await exited;
    const exitSeenAt = Date.now();
    await restarted;
    expect(Date.now() - exitSeenAt).toBeGreaterThanOrEqual(400);
  });

  it('forwards each line of child output with the child name and pid', async () => {
    const { supervisor, client, output } = await supervise();
    const child = await supervisor.spawn({ name: 'talker', module: WORKER, args: ['--flag', 'x'] });
    await client.ask('talker', 'say', 'héllo wörld');
    await client.ask('talker', 'pid');
    expect(output).toContainEqual({
      line: `worker ${child.pid} ready, args ["--flag","x"]`,
      stream: 'stdout',
      name: 'talker',
      pid: child.pid,
    });
    expect(output).toContainEqual({
      line: 'héllo wörld',
      stream: 'stdout',
      name: 'talker',
      pid: child.pid,
    });
  });

  it('keeps the registry to exactly the live actors, across exits and restarts', async () => {
    const { system, supervisor, client } = await supervise({ name: 'sup' });
    await supervisor.spawn({ name: 'r1', module: WORKER });
    const r2 = await supervisor.spawn({ name: 'r2', module: WORKER, restart: 'temporary' });
    const r3 = await supervisor.spawn({ name: 'r3', module: WORKER });
    const listed = async () =>
      (await client.registry.list()).map((info) => [info.name, info.pid, info.address, info.host]);
    const entry = (info: ChildInfo) => [
      info.name,
      info.pid,
      `${os.hostname()}-${info.pid}`,
      os.hostname(),
    ];
    const r1 = supervisor.child('r1') as ChildInfo;
    const me = ['sup', process.pid, system.address, os.hostname()];
    expect(await listed()).toEqual([entry(r1), entry(r2), entry(r3), me]);

    const r2Exit = next(supervisor, 'child-exited', (exit) => exit.name === 'r2');
    await client.tell('r2', 'quit', 0);
    await r2Exit;
    expect(await listed()).toEqual([entry(r1), entry(r3), me]);

    const r3Back = next(supervisor, 'child-started', (child) => child.name === 'r3');
    process.kill(r3.pid ?? 0, 'SIGKILL');
    const newR3 = await r3Back;
    expect(await listed()).toEqual([entry(r1), entry(newR3), me]);
    const info = await client.registry.lookup('r3');
    expect(info?.startedAt).toBeGreaterThan(0);
    expect(info?.lastHeartbeat).toBeGreaterThanOrEqual(info?.startedAt ?? Infinity);
  });

  it('runs a TypeScript child from source and the built JavaScript of the same actor', async () => {
    const { supervisor, client } = await supervise();
    const fromSource = await supervisor.spawn({ name: 'clock-ts', module: 'actors/clock.ts' });
    const fromBuild = await supervisor.spawn({ name: 'clock-js', module: 'dist/actors/clock.js' });
    const cmdline = (pid: number | undefined) =>
      fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline(fromSource.pid).some((arg) => arg.includes('tsx'))).toBe(true);
    expect(cmdline(fromBuild.pid).some((arg) => arg.includes('tsx'))).toBe(false);
    for (const name of ['clock-ts', 'clock-js']) {
      const time = await client.ask<{ iso: string }>(name, 'time');
      expect(Date.parse(time.iso)).toBeGreaterThan(0);
    }
  });
});

describe('supervisor process', () => {
  function startSupervisorProcess(config: object, namespace = uniqueNamespace()) {
    const child = runTs('test/fixtures/supervisor-main.ts', [JSON.stringify(config)], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    return { child, namespace };
  }

  async function childPids(process_: ReturnType<typeof runTs>, count: number): Promise<number[]> {
    await process_.waitForLine(/^ALL READY$/);
    const pids = process_.stdout
      .filter((line) => line.startsWith('STARTED '))
      .map((line) => Number(line.split(' ')[2]));
    expect(pids).toHaveLength(count);
    return pids;
  }

  it('escalates a crash loop: stops every child, exits non-zero, no restart storm', async () => {
    const { child } = startSupervisorProcess({
      intensity: 3,
      periodMs: 5000,
      children: [
        { name: 'steady', module: WORKER },
        { name: 'crashy', module: WORKER, env: { CRASH_AFTER_MS: '100' } },
      ],
    });
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.lines.join('\n')).toMatch(
      /supervisor gave up after 4 restarts within 5000 ms \(intensity 3\)/,
    );
    const started = child.stdout.filter((line) => line.startsWith('STARTED '));
    // steady once; crashy once plus 3 restarts; the 4th failure escalates.
    expect(started.filter((line) => line.startsWith('STARTED crashy'))).toHaveLength(4);
    expect(started.filter((line) => line.startsWith('STARTED steady'))).toHaveLength(1);
    for (const line of started) expect(isRunning(Number(line.split(' ')[2]))).toBe(false);
  });

  it('after kill -9 of the supervisor, every child exits within 2 s, even a hung one', async () => {
    const { child, namespace } = startSupervisorProcess({
      children: [1, 2, 3].map((i) => ({ name: `orphan${i}`, module: WORKER })),
    });
    const pids = await childPids(child, 3);
    const client = await startSystem({ namespace });
    await client.tell('orphan2', 'hang');
    await child.waitForLine(/\[orphan2:\d+\] hanging/);
    const killedAt = Date.now();
    child.process.kill('SIGKILL');
    const times = await Promise.all(pids.map((pid) => deathOf(pid, killedAt, 2000)));
    expect(Math.max(...times)).toBeLessThanOrEqual(2000);
  });

  it('on SIGTERM lets messages in flight finish, kills stragglers, stops every child, and exits 0', async () => {
    const { child, namespace } = startSupervisorProcess({
      children: [
        { name: 'busy-bee', module: WORKER, env: { CONCURRENCY: '4' } },
        { name: 'straggler', module: WORKER, shutdownTimeoutMs: 500 },
      ],
    });
    const pids = await childPids(child, 2);
    const client = await startSystem({ namespace, url: redisUrl() });
    const asks = [1, 2, 3, 4].map(() => client.ask('busy-bee', 'slow', 800));
    await child.waitForLines(/\[busy-bee:\d+\] slow 800 started/, 4);
    // A straggler: its main thread is stuck, so only SIGKILL after its shutdown timeout ends it.
    await client.tell('straggler', 'hang');
    await child.waitForLine(/\[straggler:\d+\] hanging/);
    child.process.kill('SIGTERM');
    expect(await Promise.all(asks)).toEqual(Array(4).fill('slow 800 done'));
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toContain(`EXITED straggler ${pids[1]} stopped`);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });
});
