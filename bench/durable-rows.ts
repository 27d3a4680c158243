/**
 * The measuring steps of bench/durable.ts: a one-way row (producer against
 * consumer, counted by the consumer, CPU sampled over the same interval), the
 * wait for the consumer to catch up after it, a row of asks, and the Redis
 * commands per message.
 */
import { type CpuRun, type CpuSample, type Slice, type Snapshot, cpuRun, watchCpu } from './cpu.js';
import type { Redis } from 'ioredis';
import type { Role } from './rpc.js';

export interface Contender {
  label: string;
  requester: Role;
  responder: Role;
}

export interface RowTiming {
  warmupMs: number;
  rowMs: number;
}

/** What a producer's `tells` command answers: messages it sent, and those whose send failed. */
interface Sent {
  sent: number;
  failed: number;
}

/**
 * Messages a contender's producer had acknowledged and its consumer handled,
 * over the whole run: after the last wait for the consumer to catch up they
 * should be equal (lost: fewer handled; more: handled twice).
 */
export class OneWayTally {
  acknowledged = 0;
  handled = 0;
  /** Waits for the consumer that stopped short of every acknowledged message. */
  stalls = 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const handledSoFar = async (responder: Role) => (await responder.call<CpuSample>('cpu')).count;

/**
 * Waits until the consumer has handled every message its producer had
 * acknowledged (backlogs differ: a producer may outrun its consumer), so
 * that the next row does not share the machine with this one's tail. Gives
 * up when the count has not moved for `stallMs`: messages that will never
 * come (a pub/sub mailbox drops what overflows it).
 */
export async function catchUp(contender: Contender, tally: OneWayTally, stallMs = 3000) {
  let last = await handledSoFar(contender.responder);
  let movedAt = performance.now();
  while (last < tally.acknowledged) {
    await sleep(100);
    const now = await handledSoFar(contender.responder);
    if (now !== last) {
      last = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt >= stallMs) {
      tally.stalls++;
      break;
    }
  }
  tally.handled = last;
}

/** Producer at its window for `durationMs`, not measured (warm-up), then the consumer's catch-up. */
export async function runOneWay(
  contender: Contender,
  tally: OneWayTally,
  window: number,
  durationMs: number,
) {
  const sent = await contender.requester.call<Sent>('tells', { window, durationMs });
  tally.acknowledged += sent.sent - sent.failed;
  await catchUp(contender, tally);
}

/** A one-way row's CPU: sliced during the load (cpu.ts), and over the whole cycle. */
export interface OneWayCpu {
  /** The three processes over the measured interval, cut in slices (cpu.ts's figure). */
  duringLoad: { run: CpuRun; slices: Slice[] };
  /**
   * One slice from just before the producer starts (nothing waiting) until the
   * consumer has handled every message acknowledged to it: all the CPU those
   * messages cost, however far the producer ran ahead of the consumer.
   */
  wholeCycle: { run: CpuRun; slices: Slice[] };
}

/**
 * One measured one-way row: messages per second the consumer handled over
 * `rowMs` after `warmupMs` of load, the producer's acknowledged sends per
 * second over the whole load, and the CPU (OneWayCpu); then the catch-up.
 */
export async function measureOneWay(
  contender: Contender,
  redisCpu: () => CpuSample,
  tally: OneWayTally,
  window: number,
  timing: RowTiming,
): Promise<{ perSecond: number; acknowledgedPerSecond: number; cpu: OneWayCpu }> {
  // The consumer has caught up with the previous row: nothing waits in Redis.
  const before = await snapshotNow(contender, redisCpu);
  const loadMs = timing.warmupMs + timing.rowMs + 300;
  // The load goes on 300 ms after the interval, so that its last samples fall inside it.
  const sending = contender.requester.call<Sent>('tells', { window, durationMs: loadMs });
  const snapshots = await watchCpu(
    contender,
    redisCpu,
    performance.now() + timing.warmupMs,
    timing.rowMs,
  );
  const sent = await sending;
  tally.acknowledged += sent.sent - sent.failed;
  const first = snapshots[0]?.responder;
  const last = snapshots.at(-1)?.responder;
  const perSecond =
    first === undefined || last === undefined
      ? NaN
      : ((last.count - first.count) * 1e9) / (last.atNs - first.atNs);
  await catchUp(contender, tally);
  const after = await snapshotNow(contender, redisCpu);
  return {
    perSecond,
    acknowledgedPerSecond: ((sent.sent - sent.failed) * 1000) / loadMs,
    cpu: {
      duringLoad: cpuRun(snapshots, 'responder'),
      wholeCycle: cpuRun([before, after], 'responder'),
    },
  };
}

/** The three processes and the machine, sampled now (watchCpu's one slice of 0 ms: its first edge). */
async function snapshotNow(contender: Contender, redisCpu: () => CpuSample): Promise<Snapshot> {
  const [snapshot] = await watchCpu(contender, redisCpu, performance.now(), 0);
  if (snapshot === undefined) throw new Error('watchCpu took no snapshot');
  return snapshot;
}

/** Asks at `inflight` for `rowMs` after `warmupMs`, and their CPU per ask (counted by the requester). */
export async function measureAsks(
  contender: Contender,
  redisCpu: () => CpuSample,
  inflight: number,
  timing: RowTiming,
): Promise<{ perSecond: number; mismatches: number; cpu: { run: CpuRun; slices: Slice[] } }> {
  const begun = performance.now();
  const measuring = contender.requester.call<{ perSecond: number; mismatches: number }>(
    'throughput',
    { inflight, durationMs: timing.rowMs, warmupMs: timing.warmupMs, tailMs: 100 },
  );
  const snapshots = await watchCpu(contender, redisCpu, begun + timing.warmupMs, timing.rowMs);
  const result = await measuring;
  return { ...result, cpu: cpuRun(snapshots, 'requester') };
}

/** Calls of each command Redis ran so far (INFO commandstats: those run inside scripts too). */
export async function commandCalls(probe: Redis): Promise<Map<string, number>> {
  const info = await probe.info('commandstats');
  const calls = new Map<string, number>();
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(name ?? '', Number(count));
  }
  return calls;
}

/**
 * Redis commands per message of each contender, over its one-way rows (from
 * just before the load until its consumer caught up): what its Redis CPU is
 * spent on. The other contenders' idle connections add a few a second.
 */
export class CommandsPerMessage {
  private readonly calls = new Map<string, Map<string, number>>();
  private readonly messages = new Map<string, number>();

  add(name: string, before: Map<string, number>, after: Map<string, number>, messages: number) {
    const calls = this.calls.get(name) ?? new Map<string, number>();
    for (const [command, count] of after) {
      const added = count - (before.get(command) ?? 0) - (command === 'info' ? 1 : 0);
      if (added > 0) calls.set(command, (calls.get(command) ?? 0) + added);
    }
    this.calls.set(name, calls);
    this.messages.set(name, (this.messages.get(name) ?? 0) + messages);
  }

  /** Calls per message by command, most first, those of at least 0.001 per message. */
  of(name: string): [command: string, perMessage: number][] {
    const messages = this.messages.get(name) ?? 0;
    return [...(this.calls.get(name) ?? [])]
      .map(([command, count]): [string, number] => [command, count / messages])
      .filter(([, perMessage]) => perMessage >= 0.001)
      .sort((a, b) => b[1] - a[1]);
  }

  toJSON() {
    return Object.fromEntries(
      [...this.calls.keys()].map((name) => [
        name,
        Object.fromEntries(this.of(name).map(([command, n]) => [command, Number(n.toFixed(4))])),
      ]),
    );
  }
}
