import { describe, expect, it, onTestFinished } from 'vitest';
import { type ProcessReport, Supervisor, defineActor } from '../src/index.js';
import { prometheusText } from '../src/core/index.js';
import { emptyDropCounts } from '../src/core/stats.js';
import { startSystem, uniqueNamespace } from './helpers.js';

/** The value of one series of Prometheus text, e.g. `redis_actors_messages_sent_total{kind="ask"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const echo = defineActor({
  handlers: {
    echo: (body: unknown) => body,
    note: () => undefined,
    fail: () => {
      throw new Error('no');
    },
  },
});

describe('metrics', () => {
  it('counts sent and received by kind, handled by actor name, and ask durations', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    await server.spawn(echo, { name: 'echo' });
    const client = await startSystem({ namespace });
    for (let i = 0; i < 5; i++) await client.ask('echo', 'echo', i);
    await client.tell('echo', 'note');
    await expect(client.ask('echo', 'fail')).rejects.toThrow('no');
    // The tell is handled after the asks before it; one more ask proves it was.
    await client.ask('echo', 'echo', 'last');

    const mine = client.metrics();
    expect(sample(mine, 'redis_actors_messages_sent_total{kind="ask"}')).toBe(7);
    expect(sample(mine, 'redis_actors_messages_sent_total{kind="tell"}')).toBe(1);
    expect(sample(mine, 'redis_actors_messages_received_total{kind="reply"}')).toBe(6);
    expect(sample(mine, 'redis_actors_messages_received_total{kind="error"}')).toBe(1);
    expect(sample(mine, 'redis_actors_ask_duration_seconds_count')).toBe(7);
    expect(sample(mine, 'redis_actors_ask_duration_seconds_bucket{le="+Inf"}')).toBe(7);
    expect(sample(mine, 'redis_actors_ask_duration_seconds_sum')).toBeGreaterThan(0);
    expect(mine).toContain('# TYPE redis_actors_ask_duration_seconds histogram');

    const theirs = server.metrics();
    expect(sample(theirs, 'redis_actors_messages_handled_total{actor="echo"}')).toBe(8);
    expect(sample(theirs, 'redis_actors_handler_failures_total{actor="echo"}')).toBe(1);
    expect(sample(theirs, 'redis_actors_mailbox_depth{actor="echo"}')).toBe(0);
    expect(sample(theirs, 'redis_actors_messages_sent_total{kind="reply"}')).toBe(6);
    expect(sample(theirs, 'redis_actors_messages_sent_total{kind="error"}')).toBe(1);
    expect(sample(theirs, 'redis_actors_connection_losses_total')).toBe(0);
    // Labels by name, never by address: no address of either process appears.
    expect(theirs).not.toContain(server.address);
  });

  it('answers a $report ask to the process address with its report', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    await server.spawn(echo, { name: 'echo' });
    const client = await startSystem({ namespace });
    await client.ask('echo', 'echo', 1);
    const report = await client.ask<ProcessReport>(server.address, '$report');
    expect(report.system).toBe(server.address);
    expect(report.pid).toBe(process.pid);
    expect(report.actors.map((actor) => actor.name)).toContain('echo');
    const actor = report.actors.find((each) => each.name === 'echo');
    expect(actor?.handledByType).toEqual({ echo: 1, note: 0, fail: 0 });
    expect(report.supervision).toBeUndefined();
  });

  it('sums reports series by series and escapes label values', () => {
    const report = (name: string, handled: number): ProcessReport =>
      ({
        system: 'h-1',
        namespace: 'ns',
        host: 'h',
        pid: 1,
        startedAt: 0,
        uptimeMs: 0,
        memory: { rss: 0, heapUsed: 0 },
        connected: true,
        subscribed: true,
        connectionLosses: 1,
        pendingAsks: 0,
        sentByKind: { tell: 1, ask: 2, reply: 0, error: 0 },
        receivedByKind: { tell: 0, ask: 0, reply: 2, error: 0 },
        dropped: { ...emptyDropCounts(), invalid: 1 },
        askDurations: { bounds: [0.001, 1], counts: [1, 1, 0], sum: 0.5, count: 2 },
        actors: [
          {
            address: 'h-1',
            name,
            mailboxDepth: 1,
            mailboxCapacity: 10,
            processing: 0,
            handled,
            failed: 0,
            sent: 0,
            handledByType: {},
            durable: false,
            pool: false,
          },
        ],
        supervisor: undefined,
        supervision: undefined,
      }) satisfies ProcessReport;
    const text = prometheusText([report('w', 3), report('w', 4), report('a"b\\c\nd', 1)], 3);
    expect(sample(text, 'redis_actors_processes')).toBe(3);
    expect(sample(text, 'redis_actors_messages_handled_total{actor="w"}')).toBe(7);
    expect(sample(text, 'redis_actors_messages_handled_total{actor="a\\"b\\\\c\\nd"}')).toBe(1);
    expect(sample(text, 'redis_actors_messages_sent_total{kind="ask"}')).toBe(6);
    expect(sample(text, 'redis_actors_messages_dropped_total{reason="invalid"}')).toBe(3);
    expect(sample(text, 'redis_actors_connection_losses_total')).toBe(3);
    expect(sample(text, 'redis_actors_ask_duration_seconds_bucket{le="0.001"}')).toBe(3);
    expect(sample(text, 'redis_actors_ask_duration_seconds_bucket{le="1"}')).toBe(6);
    expect(sample(text, 'redis_actors_ask_duration_seconds_bucket{le="+Inf"}')).toBe(6);
    // Every line is a comment or `series value`: nothing a name holds breaks a line.
    for (const line of text.trimEnd().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) .*|redis_actors_\w+(\{.*\})? [-+\w.]+)$/);
  });

  it('counts a supervised child’s restarts by its name', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const supervisor = await Supervisor.start(system, { output: () => undefined });
    onTestFinished(() => supervisor.stop());
    const child = await supervisor.spawn({ name: 'w', module: 'test/fixtures/worker.ts' });
    const restarted = new Promise<void>((resolve) => {
      supervisor.on('child-started', (info) => {
        if (info.name === 'w' && info.restarts === 1) resolve();
      });
    });
    process.kill(child.pid ?? 0, 'SIGKILL');
    await restarted;
    expect(sample(system.metrics(), 'redis_actors_child_restarts_total{child="w"}')).toBe(1);
    const report = system.report();
    expect(report.supervision?.children.map((each) => each.name)).toEqual(['w']);
    const kinds = report.supervision?.events.map((event) => `${event.kind}:${event.child}`);
    expect(kinds).toEqual(['exited:w', 'restarted:w']);
    expect(report.supervision?.events[0]?.signal).toBe('SIGKILL');
  });
});
