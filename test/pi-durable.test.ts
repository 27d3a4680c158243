/**
 * `npm run pi -- --durable`: the collector's mailbox is durable and its
 * totals live in Redis. A collector killed with -9 mid-run is restarted by
 * its supervisor and continues from what the one before counted; batches
 * told meanwhile wait in its mailbox; a batch counted by a collector that
 * died before acknowledging it is delivered again and counts once.
 *
 * What the workers sent is not taken from the collector: Redis's MONITOR
 * lists every command in the order Redis ran it, so the appends to the
 * collector's stream are its entries in stream order. Replayed with the
 * collector's rules (each batch id once, nothing once the target is reached)
 * they give what each worker must be credited.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { PiStatus } from '../actors/pi-collector.js';
import { DurableTotals, RUN_TTL_SECONDS, runKeys } from '../actors/pi-totals.js';
import { type ChildInfo, Supervisor } from '../src/index.js';
import { parseRedisUrl } from '../src/transport/redis-url.js';
import { until } from './forged.js';
import { isRunning, rawClient, redisUrl, runTs, startSystem, uniqueNamespace } from './helpers.js';

const BATCH = 1 << 20;
const COLLECTOR = 'pi-collector';

interface Envelope {
  id?: unknown;
  kind?: unknown;
  type?: unknown;
  from?: unknown;
  to?: unknown;
  body?: unknown;
}

/** The collector's stream entries as MONITOR shows their appends, then replayed. */
class StreamReplay {
  /** Envelopes appended to the stream, by their position among the appends. */
  private readonly appended: Envelope[] = [];
  readonly errors: unknown[] = [];

  constructor(private readonly stream: string) {}

  /** One command as MONITOR reports it: name, then arguments. */
  command(args: readonly string[]): void {
    const [name = '', , count] = args;
    // The append script names the stream among its keys; its other arguments are payloads.
    if (!/^eval(sha)?$/i.test(name)) return;
    const keys = args.slice(3, 3 + Number(count));
    if (!keys.includes(this.stream)) return;
    for (const payload of args.slice(3 + keys.length)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        continue; // not a payload: another argument of a script on the stream
      }
      for (const each of Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]) {
        const envelope = each as Envelope | null;
        if (typeof envelope === 'object' && envelope?.to === COLLECTOR)
          this.appended.push(envelope);
      }
    }
  }

  /**
   * Samples credited per sender by the collector's rules: in stream order,
   * each batch id once, until a `target` ask's samples are reached. An
   * envelope listed twice (an EVALSHA refused as NOSCRIPT, then its EVAL)
   * counts where it was listed last.
   */
  replay(): { total: number; duplicates: number; credited: Map<string, number> } {
    const last = new Map<unknown, number>();
    this.appended.forEach((envelope, index) => last.set(envelope.id, index));
    const credited = new Map<string, number>();
    const counted = new Set<string>();
    let total = 0;
    let duplicates = 0;
    let target: number | undefined;
    for (const [index, { id, kind, type, from, body }] of this.appended.entries()) {
      if (last.get(id) !== index) continue;
      const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
        string,
        unknown
      >;
      if (kind === 'ask' && type === 'target') {
        target = typeof fields.samples === 'number' ? fields.samples : undefined;
      } else if (type === 'samples' && typeof from === 'string') {
        const { id: batchId, total: samples } = fields;
        if (typeof batchId !== 'string' || typeof samples !== 'number')
          throw new Error(`a batch without an id or total: ${JSON.stringify(body)}`);
        if (counted.has(batchId)) {
          duplicates++;
          continue;
        }
        counted.add(batchId);
        total += samples;
        credited.set(from, (credited.get(from) ?? 0) + samples);
      } else {
        continue;
      }
      if (target !== undefined && total >= target) break;
    }
    return { total, duplicates, credited };
  }
}

/** A MONITOR connection of its own feeding `replay`, closed when the test ends. */
async function monitorInto(replay: StreamReplay): Promise<{ stop(): void }> {
  const endpoint = parseRedisUrl(redisUrl());
  const client =
    endpoint.kind === 'unix'
      ? new Redis({ path: endpoint.path, maxRetriesPerRequest: 0 })
      : new Redis({ host: endpoint.host, port: endpoint.port, maxRetriesPerRequest: 0 });
  client.on('error', (error: unknown) => replay.errors.push(error));
  const monitor = await client.monitor();
  monitor.on('error', (error: unknown) => replay.errors.push(error));
  monitor.on('monitor', (_time: string, args: string[]) => {
    try {
      replay.command(args);
    } catch (error) {
      replay.errors.push(error);
    }
  });
  const stop = (): void => {
    monitor.disconnect();
    client.disconnect();
  };
  onTestFinished(stop);
  return { stop };
}

/** The final summary the pi example prints. */
function parseSummary(text: string) {
  const samples = /^(\d+) samples \(\d+ inside\)/m.exec(text);
  if (samples === null || !/^π ≈ [\d.]+ ± [\d.]+ \(standard error\)$/m.test(text))
    throw new Error(`no summary in:\n${text}`);
  const contributions = [...text.matchAll(/^ {2}(\S+)\s+(\S+)\s+(\d+) samples$/gm)].map(
    (match) => [match[2] ?? '', Number(match[3])] as const,
  );
  return {
    samples: Number(samples[1]),
    duplicates: Number(/not counted: (\d+)$/m.exec(text)?.[1] ?? 0),
    contributions: new Map(contributions),
  };
}

/** The group's consumer of the collector at `address` (its claim token, `<address>|<nonce>`). */
async function consumerOf(raw: Redis, stream: string, address: string): Promise<string> {
  const consumers = (await raw.xinfo('CONSUMERS', stream, COLLECTOR)) as unknown[][];
  const names = consumers.map((fields) => String(fields[fields.indexOf('name') + 1]));
  const found = names.find((name) => name.startsWith(`${address}|`));
  if (found === undefined) throw new Error(`no consumer of ${address} among ${names.join(', ')}`);
  return found;
}

function pidOf(child: ChildInfo): number {
  if (child.pid === undefined) throw new Error(`${child.name} has no process`);
  return child.pid;
}

describe('durable pi collector', () => {
  it('killed with -9 mid-run, restarted, it continues: each batch the workers stored counted once', async () => {
    const namespace = uniqueNamespace();
    const stream = `${namespace}:inbox:{${COLLECTOR}}`;
    const replay = new StreamReplay(stream);
    const monitor = await monitorInto(replay);
    // A target far away: the test sets the real one once the killed collector's entries are
    // taken over, so that the collector handles every entry before it in stream order.
    const far = 1e15;
    const pi = runTs(
      'examples/pi/main.ts',
      ['--durable', '--workers', '2', '--samples', String(far), '--batch', String(BATCH)],
      { REDIS_ACTORS_NAMESPACE: namespace },
    );
    const started = await pi.waitForLine(/^ {2}pi-collector {2}pid \d+ {2}\S+$/);
    const [, pid, address = ''] = /pid (\d+) {2}(\S+)$/.exec(started) ?? [];
    const run = /^durable collector: run (\S+),/.exec(
      await pi.waitForLine(/^durable collector: run \S+,/),
    )?.[1];
    await pi.waitForLine(/^samples [\d.]+[MG] {2}π ≈/);
    const raw = rawClient();
    const killed = await consumerOf(raw, stream, address);
    const system = await startSystem({ namespace });
    const totals = runKeys(system, run ?? '').totals;
    const firstAt = await raw.hget(totals, 'firstAt');
    expect(firstAt).not.toBeNull();

    process.kill(Number(pid), 'SIGKILL');
    await pi.waitForLine(/^pi-collector restarted: pid \d+ \(restart #1\)$/);
    // The entry the killed one held (if any) goes to the new one.
    await until(
      () => raw.xpending(stream, COLLECTOR, '-', '+', 10, killed),
      (pending) => pending.length === 0,
      'the killed collector holding nothing',
    );
    const status = await system.ask<PiStatus>(COLLECTOR, 'status');
    // Remembered from the run's keys: the target main.ts set and the time of the first batch.
    expect(status.target).toEqual({ samples: far });
    expect(await raw.hget(totals, 'firstAt')).toBe(firstAt);
    expect(status.samples).toBeGreaterThan(0);
    // The workers changed nothing: their tells were stored while the collector was away.
    for (const worker of ['pi-worker-1', 'pi-worker-2']) {
      expect(await system.ask(worker, 'status'), worker).toMatchObject({
        computing: true,
        failedSends: 0,
        resentBatches: 0,
      });
    }
    await system.ask(COLLECTOR, 'target', { samples: 1 });

    const exit = await pi.exited;
    expect(exit.code, pi.lines.join('\n')).toBe(0);
    monitor.stop();
    expect(replay.errors).toEqual([]);
    expect(isRunning(Number(pid))).toBe(false);
    expect(pi.lines.filter((line) => line.startsWith('pi-collector restarted'))).toHaveLength(1);
    const summary = parseSummary(pi.stdout.join('\n'));
    const expected = replay.replay();
    // What the workers stored, each batch once, and only that.
    expect(summary.samples).toBe(expected.total);
    expect(Object.fromEntries(summary.contributions)).toEqual(
      Object.fromEntries(expected.credited),
    );
    expect(summary.contributions.size).toBe(2);
    expect(summary.samples % BATCH).toBe(0);
    // The summary's repeats: resent ones (none expected) and at most the one redelivered.
    expect(expected.duplicates).toBe(0);
    expect(summary.duplicates).toBeLessThanOrEqual(1);
  });

  it('a restarted collector keeps totals, target and times; a batch counted before its crash counts once', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const supervisor = await Supervisor.start(system, { output: () => undefined });
    onTestFinished(() => supervisor.stop());
    const run = 'kept';
    const spec = {
      name: COLLECTOR,
      module: 'actors/pi-collector.ts',
      args: ['--durable', '--run', run],
      mailbox: { durable: true },
    };
    const restarted = (): Promise<ChildInfo> =>
      new Promise((resolve) => supervisor.once('child-started', resolve));
    let child = await supervisor.spawn(spec);
    const batch = (seq: number) => ({ inside: 785, total: 1000, id: `${system.address}#${seq}` });
    const status = () => system.ask<PiStatus>(COLLECTOR, 'status');

    await system.ask(COLLECTOR, 'target', { samples: 10_000 });
    for (let seq = 0; seq < 3; seq++) await system.tell(COLLECTOR, 'samples', batch(seq));
    expect(await status()).toMatchObject({ samples: 3000, duplicates: 0 });
    // Batch 3 as a collector that died between counting it and acknowledging it leaves it:
    // counted in the run's keys, and (below) in the mailbox again.
    const stored = new DurableTotals(system, run);
    const counted = await stored.count(`b:${batch(3).id}`, system.address, batch(3), Date.now());
    expect(counted).toMatchObject({ counted: true, total: 4000 });
    const keys = runKeys(system, run);
    const raw = rawClient();
    const firstAt = await raw.hget(keys.totals, 'firstAt');

    let back = restarted();
    process.kill(pidOf(child), 'SIGKILL');
    // Right after the kill, to the name: stored in the mailbox, whoever reads them.
    await system.tell(COLLECTOR, 'samples', batch(3));
    await system.tell(COLLECTOR, 'samples', batch(4));
    child = await back;
    const after = await until(
      status,
      (s) => s.samples >= 5000 && s.duplicates >= 1,
      'both handled',
    );
    expect(after).toMatchObject({
      samples: 5000,
      duplicates: 1,
      done: false,
      target: { samples: 10_000 },
      contributions: [{ address: system.address, samples: 5000 }],
    });
    expect(await raw.hget(keys.totals, 'firstAt')).toBe(firstAt);
    for (const key of [keys.totals, keys.credit, keys.seen]) {
      const ttl = await raw.ttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(RUN_TTL_SECONDS);
    }

    // Done, then killed again: the next one is done too, with the same figures and times.
    const finished = await system.ask<PiStatus>(COLLECTOR, 'target', { samples: 5000 });
    expect(finished).toMatchObject({ done: true, samples: 5000 });
    back = restarted();
    process.kill(pidOf(child), 'SIGKILL');
    await back;
    const again = await status();
    expect(again).toMatchObject({
      done: true,
      samples: 5000,
      inside: finished.inside,
      elapsedMs: finished.elapsedMs,
      target: { samples: 5000 },
    });
  });
});
