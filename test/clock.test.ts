import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type ChildInfo, Supervisor, defineActor } from '../src/index.js';
import type { ClockTime } from '../actors/clock.js';
import { runCommand, startSystem, uniqueNamespace, assertBuildIsCurrent } from './helpers.js';

async function superviseClock(namespace: string) {
  const system = await startSystem({ namespace });
  const supervisor = await Supervisor.start(system, { output: 'ignore' });
  onTestFinished(() => supervisor.stop());
  const clock: ChildInfo = await supervisor.spawn({ name: 'clock', module: 'actors/clock.ts' });
  return { system, clock };
}

describe('clock actor', () => {
  it('answers time with hour, minute, second and an ISO timestamp', async () => {
    const { system } = await superviseClock(uniqueNamespace());
    const before = Date.now();
    const time = await system.ask<ClockTime>('clock', 'time');
    const after = Date.now();
    const at = Date.parse(time.iso);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(after + 1000);
    const local = new Date(at);
    expect([time.hour, time.minute, time.second]).toEqual([
      local.getHours(),
      local.getMinutes(),
      local.getSeconds(),
    ]);
  });

  it('starts a timer that tells ticks to an address, and stops it', async () => {
    const namespace = uniqueNamespace();
    const { system } = await superviseClock(namespace);
    const ticks: ClockTime[] = [];
    let third: (() => void) | undefined;
    const gotThree = new Promise<void>((resolve) => (third = resolve));
    const listener = await system.spawn(
      defineActor({
        handlers: {
          tick: (time: ClockTime) => {
            ticks.push(time);
            if (ticks.length === 3) third?.();
          },
        },
      }),
      { name: 'listener' },
    );
    expect(await system.ask('clock', 'start', { everyMs: 100, to: listener.address })).toEqual({
      to: listener.address,
      everyMs: 100,
    });
    await gotThree;
    // The timer is cleared before the reply is sent, on the same connection as the ticks:
    // once the reply is here, every tick ever sent has arrived.
    expect(await system.ask('clock', 'stop', { to: listener.address })).toEqual({ stopped: 1 });
    const count = ticks.length;
    expect(await system.ask('clock', 'stop')).toEqual({ stopped: 0 });
    await system.ask('clock', 'time');
    expect(ticks.length).toBe(count);
    for (const tick of ticks) expect(Date.parse(tick.iso)).toBeGreaterThan(0);
    await expect(system.ask('clock', 'start', { everyMs: 99, to: 'x' })).rejects.toThrow(
      /everyMs: integer >= 100/,
    );
  });
});

describe('clock example', () => {
  beforeAll(assertBuildIsCurrent);

  it('asks the time every second, answers redis-actors ask from another process, stops on Ctrl-C', async () => {
    const namespace = uniqueNamespace();
    const example = runCommand('npm', ['run', '--silent', 'clock'], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    const ready = await example.waitForLine(/^clock ready: pid \d+/);
    await example.waitForLine(/^\d\d:\d\d:\d\d {2}\(\d{4}-.*Z, answered in [\d.]+ ms\)$/);
    const cli = runCommand('npx', ['--offline', 'redis-actors', 'ask', 'clock', 'time'], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    expect((await cli.exited).code).toBe(0);
    expect(JSON.parse(cli.stdout.join(''))).toMatchObject({
      iso: expect.stringMatching(/Z$/) as unknown,
    });
    const clockPid = Number(/pid (\d+)/.exec(ready)?.[1]);
    example.signalGroup('SIGINT');
    await example.exited;
    const client = await startSystem({ namespace });
    expect((await client.registry.list()).filter((actor) => actor.pid === clockPid)).toEqual([]);
  });

  it('with --ticks, prints the ticks the clock tells a local actor', async () => {
    const example = runCommand('npm', ['run', '--silent', 'clock', '--', '--ticks'], {
      REDIS_ACTORS_NAMESPACE: uniqueNamespace(),
    });
    await example.waitForLine(/the clock now tells \S+\/clock-listener a tick every second/);
    await example.waitForLines(/^tick \d\d:\d\d:\d\d$/, 2);
    example.signalGroup('SIGINT');
    await example.exited;
  });
});
