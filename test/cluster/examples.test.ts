/**
 * The README's programs, unchanged, on a Redis Cluster (REDIS_URL=redis+cluster://…):
 * ping-pong, the clock, the pi computation with workers and a volunteer, and
 * shared values coupling two processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, runTs, uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster.stop();
});

function env(namespace = uniqueNamespace()): NodeJS.ProcessEnv {
  return { REDIS_URL: cluster.url, REDIS_ACTORS_NAMESPACE: namespace };
}

describe('the examples on a Redis Cluster', () => {
  it('ping-pong', async () => {
    const shared = env();
    const pong = runCommand('npm', ['run', '--silent', 'example:pong'], shared);
    await pong.waitForLine(/^pong listens at /);
    const ping = runCommand('npm', ['run', '--silent', 'example:ping'], shared);
    expect((await ping.exited).code).toBe(0);
    expect(ping.stdout.filter((line) => line.startsWith('pong #'))).toHaveLength(3);
    await pong.waitForLine(/^note from /);
    pong.signalGroup('SIGINT');
    await pong.waitForLine(/^pong stopped$/);
  });

  it('the clock answers asks from another process', async () => {
    const shared = env();
    const clock = runCommand('npm', ['run', '--silent', 'clock'], shared);
    await clock.waitForLine(/^\d\d:\d\d:\d\d {2}\(\d{4}-.*Z, answered in [\d.]+ ms\)$/);
    const ask = runCommand('npx', ['--offline', 'redis-actors', 'ask', 'clock', 'time'], shared);
    expect((await ask.exited).code).toBe(0);
    expect(JSON.parse(ask.stdout.join(''))).toMatchObject({
      iso: expect.stringMatching(/Z$/) as unknown,
    });
    clock.signalGroup('SIGINT');
    await clock.exited;
  });

  it('pi with 2 workers and a volunteer: every contribution counted once', async () => {
    const batch = 1 << 20;
    const shared = env();
    const volunteer = runCommand(
      'npm',
      ['run', '--silent', 'pi:volunteer', '--', '--batch', String(batch)],
      shared,
    );
    await volunteer.waitForLine(/^waiting for a collector named "pi-collector"…$/);
    const run = runCommand(
      'npm',
      [
        'run',
        '--silent',
        'pi',
        '--',
        '--batch',
        String(batch),
        '--workers',
        '2',
        '--samples',
        String(200 * batch),
      ],
      shared,
    );
    expect((await run.exited).code).toBe(0);
    const text = run.stdout.join('\n');
    const total = Number(/^(\d+) samples \(\d+ inside\)/m.exec(text)?.[1]);
    const contributions = [...text.matchAll(/^ {2}(\S+)\s+(\S+)\s+(\d+) samples$/gm)].map(
      (match) => ({ name: match[1] ?? '', samples: Number(match[3]) }),
    );
    expect(total).toBeGreaterThanOrEqual(200 * batch);
    expect(contributions.reduce((sum, each) => sum + each.samples, 0)).toBe(total);
    expect(contributions.map((each) => each.name)).toContain('volunteer');
    const report = await volunteer.waitForLine(/^collector done: π ≈/);
    const credited = Number(/credited this volunteer (\d+) samples/.exec(report)?.[1]);
    expect(credited).toBe(contributions.find((each) => each.name === 'volunteer')?.samples);
    expect((await volunteer.exited).code).toBe(0);
  });

  it('shared values couple two processes: every snapshot consistent', async () => {
    const shared = env();
    const reader = runTs('test/fixtures/values-reader.ts', [], shared);
    await reader.waitForLine(/^READY$/);
    const writer = runTs('test/fixtures/values-writer.ts', ['500'], shared);
    const done = await writer.waitForLine(/^DONE \d+$/);
    const report = JSON.parse((await reader.waitForLine(/^REPORT /)).slice('REPORT '.length)) as {
      written: number;
      watch: { inconsistent: number; wentBack: number; count: number };
      getMany: { inconsistent: number; wentBack: number };
    };
    expect(report.written).toBe(Number(done.split(' ')[1]));
    for (const via of [report.watch, report.getMany]) {
      expect(via.inconsistent).toBe(0);
      expect(via.wentBack).toBe(0);
    }
    expect(report.watch.count).toBeGreaterThan(0);
  });
});
