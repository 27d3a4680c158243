import { describe, expect, it } from 'vitest';
import type { PiStatus } from '../actors/pi-collector.js';
import { until } from './forged.js';
import { isRunning, runCommand, runTs, startSystem, uniqueNamespace } from './helpers.js';

interface Summary {
  estimate: number;
  standardError: number;
  samples: number;
  deviation: number;
  contributions: { name: string; address: string; samples: number }[];
}

/** Reads the final summary the pi example prints. */
function parseSummary(lines: string[]): Summary {
  const text = lines.join('\n');
  const result = /π ≈ ([\d.]+) ± ([\d.]+) \(standard error\)/.exec(text);
  const samples = /^(\d+) samples \(\d+ inside\)/m.exec(text);
  const deviation = /\|estimate - π\| = ([\d.]+) standard errors/.exec(text);
  if (result === null || samples === null || deviation === null)
    throw new Error(`no summary in:\n${text}`);
  const contributions = [...text.matchAll(/^ {2}(\S+)\s+(\S+)\s+(\d+) samples$/gm)].map(
    (match) => ({
      name: match[1] ?? '',
      address: match[2] ?? '',
      samples: Number(match[3]),
    }),
  );
  return {
    estimate: Number(result[1]),
    standardError: Number(result[2]),
    samples: Number(samples[1]),
    deviation: Number(deviation[1]),
    contributions,
  };
}

const BATCH = 1 << 20;

function pi(args: string[], namespace = uniqueNamespace()) {
  return runCommand('npm', ['run', '--silent', 'pi', '--', '--batch', String(BATCH), ...args], {
    REDIS_ACTORS_NAMESPACE: namespace,
  });
}

function expectConsistent(summary: Summary): void {
  // Every batch is counted whole, or not at all.
  expect(summary.samples % BATCH).toBe(0);
  expect(summary.contributions.reduce((sum, each) => sum + each.samples, 0)).toBe(summary.samples);
  expect(Math.abs(summary.estimate - Math.PI)).toBeLessThanOrEqual(4 * summary.standardError);
}

describe('volunteer Monte-Carlo pi', () => {
  it('reaches the requested precision with 2 workers, within 4 standard errors of π', async () => {
    // 1e-4 takes ~270M samples, a few seconds: worker 1 alone gets through the ~70M of 2e-4
    // while worker 2 is still starting, and then only one of them contributes.
    const run = pi(['--workers', '2', '--precision', '1e-4']);
    const { code } = await run.exited;
    expect(code).toBe(0);
    const summary = parseSummary(run.stdout);
    expect(summary.standardError).toBeLessThanOrEqual(1e-4);
    expect(summary.contributions.map((each) => each.name).sort()).toEqual([
      'pi-worker-1',
      'pi-worker-2',
    ]);
    expectConsistent(summary);
  });

  it('counts a volunteer started separately, sending batches unasked; it reports what it was credited', async () => {
    const namespace = uniqueNamespace();
    // Started first: it waits for the collector, and says so once.
    const volunteer = runCommand(
      'npm',
      ['run', '--silent', 'pi:volunteer', '--', '--batch', String(BATCH)],
      {
        REDIS_ACTORS_NAMESPACE: namespace,
      },
    );
    const joined = await volunteer.waitForLine(/^volunteer \S+ computing for "pi-collector"/);
    const volunteerAddress = joined.split(' ')[1];
    await volunteer.waitForLine(/^waiting for a collector named "pi-collector"…$/);
    // No workers of its own: only the volunteer can bring the computation to its end.
    const run = pi(['--workers', '0', '--samples', String(100 * BATCH)], namespace);
    expect((await run.exited).code).toBe(0);
    const summary = parseSummary(run.stdout);
    expect(summary.contributions).toEqual([
      { name: 'volunteer', address: volunteerAddress, samples: summary.samples },
    ]);
    expectConsistent(summary);
    const report = await volunteer.waitForLine(/^collector done: π ≈/);
    const credited =
      /the collector credited this volunteer (\d+) samples \((\d+) batches sent, 0 of them again after a failed send\)$/.exec(
        report,
      );
    expect(credited, report).not.toBeNull();
    expect(Number(credited?.[1])).toBe(summary.samples);
    // Batches that reached the collector after it was done are sent, but not credited.
    expect(Number(credited?.[2]) * BATCH).toBeGreaterThanOrEqual(summary.samples);
    expect((await volunteer.exited).code).toBe(0);
    expect(
      volunteer.lines.filter((line) => line.startsWith('waiting for a collector')),
    ).toHaveLength(1);
  });

  it('survives a worker killed with -9: restarted, and the totals stay consistent', async () => {
    const run = pi(['--workers', '2', '--samples', String(400 * BATCH)]);
    const worker = await run.waitForLine(/^ {2}pi-worker-1 {2}pid \d+/);
    const pid = Number(/pid (\d+)/.exec(worker)?.[1]);
    await run.waitForLine(/^samples [\d.]+[MG] {2}π ≈/);
    process.kill(pid, 'SIGKILL');
    await run.waitForLine(/^pi-worker-1 restarted: pid \d+ \(restart #1\)$/);
    expect((await run.exited).code).toBe(0);
    expect(isRunning(pid)).toBe(false);
    const summary = parseSummary(run.stdout);
    expectConsistent(summary);
    expect(summary.samples).toBeGreaterThanOrEqual(400 * BATCH);
    // The new worker-1 contributes under its new address (the old one's batches, if any, under the old).
    expect(summary.contributions.length).toBeGreaterThanOrEqual(2);
  });

  it('a volunteer whose collector goes away says so once, and contributes to the next one', async () => {
    const namespace = uniqueNamespace();
    const env = { REDIS_ACTORS_NAMESPACE: namespace };
    // Collectors of their own, unsupervised, under the name a supervisor would give them.
    const collector = () =>
      runTs('actors/pi-collector.ts', ['--redis-actors-name=pi-collector'], env);
    const system = await startSystem({ namespace });
    const status = () => system.ask<PiStatus>('pi-collector', 'status').catch(() => undefined);
    const first = collector();
    await until(status, (s) => s !== undefined, 'the first collector answering');
    const volunteer = runCommand(
      'npm',
      ['run', '--silent', 'pi:volunteer', '--', '--batch', String(BATCH)],
      env,
    );
    const joined = await volunteer.waitForLine(/^volunteer \S+ computing for "pi-collector"/);
    const address = joined.split(' ')[1];
    const contributing = (s: PiStatus | undefined) =>
      s?.contributions.some((each) => each.address === address) === true;
    await until(status, contributing, 'the volunteer contributing');

    first.signalGroup('SIGTERM'); // stops without telling anyone done
    expect((await first.exited).code).toBe(0);
    const gone = /^no collector named "pi-collector" answers any more; waiting for one…$/;
    await volunteer.waitForLine(gone);
    collector();
    await until(status, contributing, 'the volunteer contributing to the second collector');
    await system.ask('pi-collector', 'target', { samples: 1 });
    expect(await volunteer.waitForLine(/^collector done: π ≈/)).toMatch(
      /the collector credited this volunteer \d+ samples/,
    );
    expect((await volunteer.exited).code).toBe(0);
    expect(volunteer.lines.filter((line) => gone.test(line))).toHaveLength(1);
    expect(volunteer.lines.filter((line) => line.startsWith('waiting for a collector'))).toEqual(
      [],
    );
  });

  it('refuses bad arguments with a usage message', async () => {
    const run = pi(['--workers', 'many']);
    expect((await run.exited).code).toBe(2);
    expect(run.lines.join('\n')).toMatch(/--workers must be an integer >= 0/);
  });
});
