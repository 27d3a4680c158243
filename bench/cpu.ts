/**
 * CPU cost per message, in the orchestrator: CPU time of a contender's
 * requester, responder and of the Redis server, divided by the messages of
 * the same interval.
 *
 * Roles sample themselves (`cpu`, a CpuSample: `process.cpuUsage()` and the
 * messages they counted so far); the Redis server this bench started is read
 * from `/proc/<pid>/stat` (utime + stime of all its threads, in clock ticks of
 * 10 ms); the machine as a whole from `/proc/stat`. Samples carry the
 * system-wide monotonic clock, so those of different processes line up.
 *
 * The measured interval is cut into slices of about 250 ms (every process is
 * sampled at every edge), because this shared VM is noisy: other work on it
 * takes cores and changes how much a contender batches (so its CPU per
 * message, either way), and for stretches of a second to a minute the same
 * work costs up to 1.5-2x the CPU time (a fixed JSON loop shows it too). The
 * figure is made of the quiet slices (other processes under 0.3 cores) and of
 * those, the middle half by CPU per message, pooled (CPU over messages).
 * Before each interval the orchestrator waits a little for the machine to be
 * quiet. 250 ms keeps the 10 ms ticks of Redis a small error (a few percent
 * of its share, which is itself a tenth of ours).
 *
 * How far to trust it: the slices of one interval agree well, but the level
 * of an interval moves by ±20% between rounds and runs (bench/README.md has
 * the figures and how to compare two versions). The first seconds of load on
 * a fresh process cost more, which is why every contender is warmed in every
 * shape first.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { type CpuSample, cpuSample } from './cpu-sample.js';

export type { CpuSample } from './cpu-sample.js';

/** A slice is about this long. */
const SLICE_MS = 250;
/** Slices in which other processes used more cores than this are left out (when there are quiet ones). */
export const OTHER_CORES_LIMIT = 0.3;

let tickUs: number | undefined;
/** The clock tick of `/proc` figures, in microseconds. */
function usPerTick(): number {
  if (tickUs !== undefined) return tickUs;
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    // No getconf: Linux reports 100 ticks per second wherever this bench runs.
  }
  return (tickUs = 1e6 / ticksPerSecond);
}

/** The pid of the Redis server behind `socketPath`, as it reports it (`spawned`: the pid it was started as). */
export async function redisServerPid(socketPath: string, spawned: number): Promise<number> {
  const probe = new Redis({ path: socketPath });
  try {
    const info = await probe.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? spawned);
    if (pid !== spawned)
      process.stderr.write(`bench: Redis reports pid ${pid}, spawned as ${spawned}\n`);
    return pid;
  } finally {
    probe.disconnect();
  }
}

/** A sampler of another process's CPU time, from `/proc/<pid>/stat` (Linux only). */
export function procCpuSampler(pid: number): () => CpuSample {
  const tick = usPerTick();
  return () => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after "pid (comm) " start at field 3 (state); utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      atNs: Number(process.hrtime.bigint()),
      userUs: Number(fields[11]) * tick,
      systemUs: Number(fields[12]) * tick,
      count: 0,
    };
  };
}

/**
 * CPU time of the whole machine (every CPU; `/proc/stat`, sampled at clock
 * ticks, so only roughly) and of this process: what neither this process nor
 * the contender used went to other work.
 */
function machineCpuSample(): { machine: CpuSample; orchestrator: CpuSample } {
  const orchestrator = cpuSample();
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …, in clock ticks.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const machine = {
    atNs: orchestrator.atNs,
    userUs: (user + nice) * usPerTick(),
    systemUs: (system + irq + softirq) * usPerTick(),
    count: 0,
  };
  return { machine, orchestrator };
}

const cpuUs = (from: CpuSample, to: CpuSample) =>
  to.userUs + to.systemUs - (from.userUs + from.systemUs);

/**
 * Waits until other processes on the machine use at most 0.3 cores over
 * 300 ms, for at most `maxMs`; returns how long it waited. (A CPU row measured
 * beside other work is mostly left out of the figures, see figureOf.)
 */
export async function waitForQuiet(maxMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const from = machineCpuSample();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const to = machineCpuSample();
    const otherUs = cpuUs(from.machine, to.machine) - cpuUs(from.orchestrator, to.orchestrator);
    const waited = performance.now() - started;
    if (otherUs / ((to.machine.atNs - from.machine.atNs) / 1000) <= OTHER_CORES_LIMIT)
      return waited;
    if (waited >= maxMs) return waited;
  }
}

const SIDES = ['requester', 'responder', 'redis'] as const;
type Side = (typeof SIDES)[number];

/** The three processes of a contender sampled at (nearly) the same instant, and the machine. */
export type Snapshot = Record<Side, CpuSample> & ReturnType<typeof machineCpuSample>;

/** The processes of one contender, as the orchestrator sees them. */
interface Sampled {
  requester: { call<T>(command: string): Promise<T> };
  responder: { call<T>(command: string): Promise<T> };
}

/**
 * Snapshots of `contender` and of the Redis server (`redis`) from `startAt`
 * (a `performance.now()` time) over `durationMs`, at the edges of slices of
 * about 250 ms.
 */
export async function watchCpu(
  contender: Sampled,
  redis: () => CpuSample,
  startAt: number,
  durationMs: number,
): Promise<Snapshot[]> {
  const slices = Math.max(1, Math.round(durationMs / SLICE_MS));
  const taken: Promise<Snapshot>[] = [];
  for (let edge = 0; edge <= slices; edge++) {
    const wait = startAt + (edge * durationMs) / slices - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const requester = contender.requester.call<CpuSample>('cpu');
    const responder = contender.responder.call<CpuSample>('cpu');
    const others = { redis: redis(), ...machineCpuSample() };
    taken.push(
      Promise.all([requester, responder]).then(([a, b]) => ({
        requester: a,
        responder: b,
        ...others,
      })),
    );
  }
  return Promise.all(taken);
}

/** CPU microseconds per message, summed and split by process. */
export interface CpuPerMessage {
  totalUs: number;
  requesterUs: number;
  responderUs: number;
  redisUs: number;
}

/** A figure, and how many slices it is from. */
export interface CpuFigure extends CpuPerMessage {
  slices: number;
  /** Slices during which other processes used at most 0.3 cores (all slices count when none did). */
  quietSlices: number;
}

/** One measured interval: its figure and what it was computed from. */
export interface CpuRun extends CpuFigure {
  /** CPU over messages of the whole interval, every slice. */
  untrimmedUs: number;
  count: number;
  intervalMs: number;
  /** CPU µs per message of each slice, in time order… */
  sliceUs: number[];
  /** …and the cores other processes used during it (roughly: /proc/stat counts in ticks). */
  sliceOtherCores: number[];
  /** CPU time of the Redis server over the interval (read in 10 ms ticks). */
  redisCpuMs: number;
  /** Largest offset between a process's sample and that of the counting process. */
  skewMs: number;
}

/** One slice between two snapshots: its messages, each process's CPU, other work. */
export interface Slice {
  count: number;
  cpuUs: Record<Side, number>;
  otherCores: number;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * The slices between consecutive snapshots. `counter` counted the messages;
 * the CPU of each other process is its CPU per second over its own two
 * samples times the length of the counter's slice, so that samples taken a
 * few milliseconds apart do not matter.
 */
function slicesOf(snapshots: Snapshot[], counter: 'requester' | 'responder'): Slice[] {
  return snapshots.slice(1).map((to, i) => {
    const from = snapshots[i] as Snapshot;
    const countedNs = to[counter].atNs - from[counter].atNs;
    const cpu = (side: Side) =>
      (cpuUs(from[side], to[side]) / (to[side].atNs - from[side].atNs)) * countedNs;
    const measured =
      cpuUs(from.orchestrator, to.orchestrator) +
      SIDES.reduce((sum, side) => sum + cpuUs(from[side], to[side]), 0);
    return {
      count: to[counter].count - from[counter].count,
      cpuUs: { requester: cpu('requester'), responder: cpu('responder'), redis: cpu('redis') },
      otherCores:
        (cpuUs(from.machine, to.machine) - measured) /
        ((to.machine.atNs - from.machine.atNs) / 1000),
    };
  });
}

const perMessage = (slice: Slice) =>
  (slice.cpuUs.requester + slice.cpuUs.responder + slice.cpuUs.redis) / slice.count;

/** CPU over messages of `slices`, pooled. */
function pooled(slices: Slice[]): CpuPerMessage {
  const count = slices.reduce((sum, slice) => sum + slice.count, 0);
  const side = (name: Side) => slices.reduce((sum, slice) => sum + slice.cpuUs[name], 0) / count;
  const [requesterUs, responderUs, redisUs] = SIDES.map(side) as [number, number, number];
  return {
    totalUs: round(requesterUs + responderUs + redisUs),
    requesterUs: round(requesterUs),
    responderUs: round(responderUs),
    redisUs: round(redisUs),
  };
}

/** The quiet slices (all when none is), and of those the middle half by CPU per message (all when fewer than 4), pooled. */
function figureOf(slices: Slice[]): CpuFigure {
  const counted = slices.filter((slice) => slice.count > 0);
  const quiet = counted.filter((slice) => slice.otherCores <= OTHER_CORES_LIMIT);
  const ranked = (quiet.length > 0 ? quiet : counted).sort((a, b) => perMessage(a) - perMessage(b));
  const quarter = ranked.length >= 4 ? Math.floor(ranked.length / 4) : 0;
  return {
    ...pooled(ranked.slice(quarter, ranked.length - quarter)),
    slices: counted.length,
    quietSlices: quiet.length,
  };
}

/** The figures of one measured interval, and its slices (to pool them with other rounds'). */
export function cpuRun(
  snapshots: Snapshot[],
  counter: 'requester' | 'responder',
): { run: CpuRun; slices: Slice[] } {
  const slices = slicesOf(snapshots, counter);
  const first = snapshots[0] as Snapshot;
  const last = snapshots[snapshots.length - 1] as Snapshot;
  const skewNs = Math.max(
    ...snapshots.flatMap((snapshot) =>
      SIDES.map((side) => Math.abs(snapshot[side].atNs - snapshot[counter].atNs)),
    ),
  );
  const run: CpuRun = {
    ...figureOf(slices),
    untrimmedUs: pooled(slices).totalUs,
    count: last[counter].count - first[counter].count,
    intervalMs: round((last[counter].atNs - first[counter].atNs) / 1e6),
    sliceUs: slices.map((slice) => round(perMessage(slice), 2)),
    sliceOtherCores: slices.map((slice) => round(slice.otherCores, 2)),
    redisCpuMs: round(cpuUs(first.redis, last.redis) / 1000),
    skewMs: round(skewNs / 1e6),
  };
  return { run, slices };
}

/** The CPU figures of one row (one shape of traffic), per contender, over rounds. */
export class CpuFigures {
  private readonly measured = new Map<string, { runs: CpuRun[]; slices: Slice[] }>();

  add(name: string, { run, slices }: { run: CpuRun; slices: Slice[] }): void {
    const entry = this.measured.get(name) ?? { runs: [], slices: [] };
    entry.runs.push(run);
    entry.slices.push(...slices);
    this.measured.set(name, entry);
  }

  /** The figure from the slices of every round. */
  figure(name: string): CpuFigure | undefined {
    const entry = this.measured.get(name);
    return entry === undefined ? undefined : figureOf(entry.slices);
  }

  /** Every contender's figure. */
  figures(): CpuFigure[] {
    return [...this.measured.values()].map(({ slices }) => figureOf(slices));
  }

  toJSON() {
    return Object.fromEntries(
      [...this.measured].map(([name, { runs, slices }]) => [name, { ...figureOf(slices), runs }]),
    );
  }
}
