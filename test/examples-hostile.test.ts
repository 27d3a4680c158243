/**
 * The example actors and programs against someone who can PUBLISH on the
 * shared Redis: forged envelopes (any `from`) sent straight with a raw client,
 * as docs/PROTOCOL.md describes them, and junk in the chat's and the mail's
 * channels and lists. Everything runs as real processes on the test Redis.
 */
import { describe, expect, it } from 'vitest';
import { type ActorSystem, type HealthReport, defineActor } from '../src/index.js';
import type { ClockStatus } from '../actors/clock.js';
import type { PiStatus, PiSummary } from '../actors/pi-collector.js';
import {
  MAX_BODY_BYTES,
  MAX_STORED_MAIL_BYTES,
  MailError,
  MailStore,
  checkMail,
  composeMail,
  formatMail,
} from '../examples/mail/mail.js';
import { forgedTell, publish, supervise, until } from './forged.js';
import {
  type Child,
  deferred,
  rawClient,
  runCommand,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

const COLLECTOR = { name: 'pi-collector', module: 'actors/pi-collector.ts' };
const BATCH = 1 << 20;
const WORKER = {
  name: 'pi-worker-1',
  module: 'actors/pi-worker.ts',
  args: ['--collector', 'pi-collector', '--batch', String(BATCH)],
};
const collectorStatus = (system: ActorSystem) => system.ask<PiStatus>('pi-collector', 'status');

describe('pi collector, against forged samples', () => {
  it('refuses giant and implausible batches: the estimate stays within 4 standard errors of π', async () => {
    const namespace = uniqueNamespace();
    const { system, output } = await supervise(namespace, [COLLECTOR, WORKER]);
    // Past 10^7 samples the running estimate is the reference for plausibility.
    await until(
      () => collectorStatus(system),
      (s) => s.samples >= 2e7,
      'past 2e7 samples',
    );
    const redis = rawClient();
    for (const body of [
      { inside: 1e10, total: 1e10 }, // too large: more than 2^30 samples
      { inside: 2 ** 30, total: 2 ** 30 }, // every point inside: 4.0
      { inside: 0, total: 2 ** 29 }, // none inside: 0.0
    ]) {
      await publish(redis, namespace, 'pi-collector', forgedTell('pi-collector', 'samples', body));
    }
    await publish(redis, namespace, 'pi-collector', [
      forgedTell('pi-collector', 'samples', null),
      forgedTell('pi-collector', 'samples', { inside: '1', total: 2 }),
      forgedTell('pi-collector', 'samples', [1, 2]),
    ]);
    // An ask is answered with the refusal.
    await expect(
      system.ask('pi-collector', 'samples', { inside: 2 ** 31, total: 2 ** 31 }),
    ).rejects.toMatchObject({ remoteName: 'InvalidMessageError', remoteCode: 'INVALID_MESSAGE' });
    // Same channel, same order: the status is asked after every forgery was handled.
    const status = await collectorStatus(system);
    expect(status.refused).toEqual({
      'bad-samples': 3,
      'bad-batch-id': 0,
      'too-large': 2,
      'too-many-contributors': 0,
      implausible: 2,
    });
    expect(Math.abs(status.estimate - Math.PI)).toBeLessThanOrEqual(4 * status.standardError);
    expect(status.samples % BATCH).toBe(0);
    expect(status.contributors).toBe(1);
    // One log line per reason, however many refusals.
    expect(output.filter((line) => line.includes('refused a "samples" message'))).toHaveLength(3);
  });

  it('survives 5,000 fake contributors in one publish: capped at 1,000, a bounded done fan-out, RSS < 300 MB', async () => {
    const namespace = uniqueNamespace();
    const { system } = await supervise(namespace, [COLLECTOR]);
    // A contributor of our own, first in the batch: it shows what `done` carries.
    const doneBody = deferred<unknown>();
    const contributor = await system.spawn(
      defineActor({
        handlers: {
          done: (body: unknown) => {
            doneBody.resolve(body);
          },
        },
      }),
      { name: 'honest' },
    );
    const fakes = Array.from({ length: 4_999 }, (_, index) => `fake-${index}`);
    const batch = [contributor.address, ...fakes].map((from) =>
      forgedTell('pi-collector', 'samples', { inside: 785, total: 1000 }, from),
    );
    expect(await publish(rawClient(), namespace, 'pi-collector', batch)).toBe(1);

    const status = await collectorStatus(system);
    expect(status.contributors).toBe(1000);
    expect(status.contributions).toHaveLength(1000);
    expect(status.refused['too-many-contributors']).toBe(4000);
    expect(status.samples).toBe(1000 * 1000);

    // Done: every contributor is told, in paced groups of a small summary.
    await system.ask('pi-collector', 'target', { samples: 1 });
    const rssAtDone = (await system.ask<HealthReport>('pi-collector', 'health')).memory.rss;
    const told = await until(
      () => collectorStatus(system),
      (s) => s.doneFanOut.pending === 0,
      'done fan-out finished',
    );
    expect(told.doneFanOut.told + told.doneFanOut.unreachable).toBe(1000);
    expect(told.doneFanOut.told).toBeGreaterThanOrEqual(1); // ours; the fakes do not exist
    const rssAfter = (await system.ask<HealthReport>('pi-collector', 'health')).memory.rss;
    // A collector idles at ~100-150 MB (node, tsx, the framework). Telling each of 5,000
    // contributors a summary listing all 5,000 took it to 1.87 GB; 1,000 summaries of a few
    // hundred bytes, 20 at a time, add next to nothing.
    expect(Math.max(rssAtDone, rssAfter)).toBeLessThan(300 * 1024 * 1024);
    const body = (await doneBody.promise) as PiSummary;
    expect(body).toMatchObject({ samples: 1e6, contributors: 1000 });
    expect(JSON.stringify(body).length).toBeLessThan(500);
  });
});

describe('pi worker, against a forged done', () => {
  it('ignores a done its collector does not confirm, keeps contributing, and stops on the real one', async () => {
    const namespace = uniqueNamespace();
    const { system, children } = await supervise(namespace, [COLLECTOR, WORKER]);
    const [collector, worker] = children.map((child) => child.address ?? '') as [string, string];
    type WorkerStatus = {
      computing: boolean;
      batches: number;
      ignoredDone: number;
      uncheckedDone: number;
    };
    const workerStatus = () => system.ask<WorkerStatus>('pi-worker-1', 'status');
    await until(workerStatus, (s) => s.batches >= 1, 'contributing');

    // Forged as coming from the collector's own process address, with a summary.
    const forged = forgedTell(worker, 'done', { done: true, estimate: 3 }, collector);
    await publish(rawClient(), namespace, worker, forged);
    const checked = await until(workerStatus, (s) => s.ignoredDone >= 1, 'the forged done counted');
    expect(checked).toMatchObject({ computing: true, ignoredDone: 1, uncheckedDone: 0 });
    await until(workerStatus, (s) => s.batches > checked.batches, 'contributing after it');

    await system.ask('pi-collector', 'target', { samples: 1 });
    const stopped = await until(workerStatus, (s) => !s.computing, 'stopped by the real done');
    expect(stopped.ignoredDone).toBe(1);
  });
});

describe('clock, against a timer flood', () => {
  it('caps timers per caller and in total, refuses ticks faster than 100 ms', async () => {
    const namespace = uniqueNamespace();
    const { system } = await supervise(namespace, [{ name: 'clock', module: 'actors/clock.ts' }]);
    let ticks = 0;
    const ticked = deferred();
    const victim = await system.spawn(
      defineActor({
        handlers: {
          tick: () => {
            if (++ticks === 1) ticked.resolve();
          },
        },
      }),
      { name: 'victim' },
    );
    const hour = 3_600_000;
    const redis = rawClient();
    // One caller: a 10 ms timer at the victim, one that setInterval would make 1 ms, 50 more.
    await publish(redis, namespace, 'clock', [
      forgedTell('clock', 'start', { everyMs: 10, to: victim.address }),
      forgedTell('clock', 'start', { everyMs: 2 ** 31, to: victim.address }),
      ...Array.from({ length: 50 }, (_, index) =>
        forgedTell('clock', 'start', { everyMs: hour, to: `nobody-${index}` }),
      ),
    ]);
    const afterOneCaller = await system.ask<ClockStatus>('clock', 'status');
    expect(afterOneCaller.refused).toEqual({
      'bad-timer': 1,
      'too-frequent': 1,
      'caller-limit': 40,
      'total-limit': 0,
    });
    expect(afterOneCaller.timers).toHaveLength(10);
    expect(afterOneCaller.timers.every((timer) => timer.owner === 'mallory')).toBe(true);
    expect(afterOneCaller.timers.some((timer) => timer.to === victim.address)).toBe(false);

    // 110 callers of 10 timers each, in one publish: the total stops at 1,000.
    await publish(
      redis,
      namespace,
      'clock',
      Array.from({ length: 1100 }, (_, index) =>
        forgedTell('clock', 'start', { everyMs: hour, to: `far-${index}` }, `sybil-${index % 110}`),
      ),
    );
    const full = await system.ask<ClockStatus>('clock', 'status');
    expect(full.timers).toHaveLength(1000);
    expect(full.refused).toMatchObject({ 'caller-limit': 40, 'total-limit': 110 });
    await expect(
      system.ask('clock', 'start', { everyMs: hour, to: victim.address }),
    ).rejects.toMatchObject({
      remoteName: 'InvalidMessageError',
      remoteMessage: expect.stringMatching(/at most 1000 timers/) as unknown,
    });
    // No timer ever pointed at the victim.
    expect(ticks).toBe(0);

    expect(await system.ask('clock', 'stop')).toEqual({ stopped: 1000 });
    expect(await system.ask('clock', 'start', { everyMs: 100, to: victim.address })).toEqual({
      everyMs: 100,
      to: victim.address,
    });
    await ticked.promise;
  });
});

/** `npm run chat -- --nick <nick>` in `namespace`, with a way to type lines. */
function chat(namespace: string, nick: string): Child & { type(line: string): void } {
  const child = runCommand('npm', ['run', '--silent', 'chat', '--', '--nick', nick], {
    REDIS_ACTORS_NAMESPACE: namespace,
  });
  return Object.assign(child, {
    type: (line: string) => void child.process.stdin?.write(`${line}\n`),
  });
}

describe('chat, against junk on its channel and in its history', () => {
  it('shows only well-shaped messages of bounded length, with one notice for the rest', async () => {
    const namespace = uniqueNamespace();
    const redis = rawClient();
    const channel = `${namespace}:topic:chat.lobby`;
    await redis.rpush(
      `${namespace}:chat:lobby:history`,
      JSON.stringify({ name: 'carol', message: 'x'.repeat(200_000) }), // over 128 KiB
      JSON.stringify({ name: 'n'.repeat(100), message: 'long name' }),
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      JSON.stringify({ name: 'carol', message: 'kept', extra: { deep: [[[1]]] } }),
    );
    const alice = chat(namespace, 'alice');
    await alice.waitForLine(/^joined #lobby as alice /);
    const notice = '(ignored something on the channel that is not a chat message)';
    expect(alice.stdout.slice(0, 3)).toEqual([
      notice,
      '-- the last message of #lobby --',
      'carol: kept',
    ]);

    for (const junk of [
      { name: 'eve', message: 'y'.repeat(20_000) }, // longer than 16,384 characters
      { name: 'e'.repeat(65), message: 'hi' },
      { name: 'eve', event: 'nick', previous: 'p'.repeat(1000) },
      { name: 'eve', message: 'z'.repeat(150_000) }, // over the 128 KiB payload limit
    ]) {
      await redis.publish(channel, JSON.stringify(junk));
    }
    await redis.publish(channel, JSON.stringify({ name: 'dave', message: 'fine', unknown: [1] }));
    await alice.waitForLine(/^dave: fine$/);
    alice.type('w'.repeat(20_000));
    alice.type('sync');
    await alice.waitForLine(/^alice: sync$/);
    const joined = alice.stdout.findIndex((line) => line.startsWith('joined #lobby'));
    expect(alice.stdout.slice(joined + 1)).toEqual([
      'dave: fine',
      '(not sent: a message has at most 16384 characters, this one 20000)',
      'alice: sync',
    ]);
    alice.type('/quit');
    expect((await alice.exited).code).toBe(0);
    expect(alice.stdout.slice(-2)).toEqual([
      '(ignored 7 things on the channel that were not chat messages)',
      'left #lobby',
    ]);
  });
});

describe('mail, against junk in inboxes and on its topic', () => {
  it('reads back only messages within the limits composing enforces, never quoting junk', () => {
    const mail = composeMail({ from: 'alice', to: ['bob'], subject: 'Hi', body: 'b' });
    // Unknown fields are ignored, not kept.
    expect(checkMail({ ...mail, extra: { nested: [[[1]]] } })).toEqual(mail);
    const refused = (overrides: object): string => {
      try {
        checkMail({ ...mail, ...overrides });
      } catch (error) {
        expect(error).toBeInstanceOf(MailError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(overrides).slice(0, 100)}`);
    };
    expect(refused({ subject: 's'.repeat(201) })).toMatch(/subject is longer than 200/);
    expect(refused({ body: 'b'.repeat(MAX_BODY_BYTES + 1) })).toMatch(/body is longer/);
    expect(refused({ body: '✓'.repeat(MAX_BODY_BYTES / 2) })).toMatch(/body is longer/);
    const many = Array.from({ length: 51 }, (_, index) => `u${index}`);
    expect(refused({ to: many })).toMatch(/more than 50 recipients/);
    expect(refused({ to: many.slice(0, 30), cc: many.slice(30) })).toMatch(/more than 50/);
    expect(refused({ id: 'i'.repeat(1000) })).toMatch(/id is longer/);
    expect(refused({ date: `2025-01-01${' '.repeat(100)}` })).toMatch(/date is longer/);
    expect(refused({ from: 'x'.repeat(1_000_000) })).toBe('from is not a user name');
    expect(refused({ cc: ['\u001b[2J'] })).toBe('cc entry is not a user name');
    // What a body holds is shown, but cannot drive the terminal.
    expect(formatMail({ ...mail, body: 'a\tb\nc\u001b[2Jd' })).toMatch(/a\tb\nc\\u001b\[2Jd$/);
  });

  it('reads at most the inbox limit, and never transfers an oversized entry', async () => {
    const namespace = uniqueNamespace();
    const store = new MailStore(await startSystem({ namespace }), 500);
    const key = `${namespace}:mail:inbox:bob`;
    const redis = rawClient();
    await store.deliver(composeMail({ from: 'alice', to: ['bob'], subject: 'real', body: '' }));
    // Older than it, 600 entries of junk: the list is longer than any inbox should be.
    await redis.rpush(key, ...Array.from({ length: 600 }, (_, index) => `junk ${index}`));
    await redis.lpush(key, 'x'.repeat(3 * 1024 * 1024));

    const inbox = await store.inbox('bob');
    expect(inbox).toHaveLength(500);
    expect(inbox[0]).toBeInstanceOf(MailError);
    expect((inbox[0] as MailError).message).toBe(
      `${3 * 1024 * 1024} bytes, more than the ${MAX_STORED_MAIL_BYTES} a message can have`,
    );
    expect(inbox[1]).toMatchObject({ subject: 'real' });
    expect(inbox.slice(2).every((entry) => entry instanceof MailError)).toBe(true);
    await expect(store.message('bob', 1)).rejects.toThrow(
      /message 1 of bob is unreadable: \d+ bytes/,
    );
    expect((await store.message('bob', 2)).subject).toBe('real');
  });

  it('watch reports the first junk on the topic and counts the rest', async () => {
    const namespace = uniqueNamespace();
    const watcher = runCommand('npm', ['run', '--silent', 'mail', '--', 'watch', 'bob'], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    await watcher.waitForLine(/^watching /);
    const redis = rawClient();
    const topic = `${namespace}:topic:mail.bob`;
    const valid = composeMail({ from: 'alice', to: ['bob'], subject: 'ok', body: '' });
    for (const junk of [
      'not json \u001b[2J',
      '{"not":"mail"}',
      JSON.stringify({ ...valid, subject: 's'.repeat(10_000) }),
      'x'.repeat(2 * 1024 * 1024), // over the watcher's 1 MiB limit
    ]) {
      await redis.publish(topic, junk);
    }
    const store = new MailStore(await startSystem({ namespace }));
    await store.deliver(composeMail({ from: 'alice', to: ['bob'], subject: 'Live', body: '' }));
    await watcher.waitForLine(/^Subject: Live$/);
    const reported = watcher.lines.filter((line) => line.startsWith('ignored something'));
    expect(reported).toHaveLength(1);
    expect(reported[0]).not.toContain('\u001b');
    watcher.signalGroup('SIGINT');
    await watcher.waitForLine(/^stopped watching bob's mail$/);
    await watcher.exited; // every line read, stderr's too
    expect(watcher.lines).toContain("(ignored 4 things on bob's mail topic that were not mail)");
  });
});
