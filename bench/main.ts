/**
 * `npm run bench [-- --quick]`: redis-actors against raw ioredis and Moleculer,
 * in one run, on a Redis this bench starts itself (a unix socket, no
 * persistence). Requesters and responders are separate processes. Throughput
 * rows are measured in several rounds, contenders interleaved, and reported
 * as medians, because this machine is noisy. The ask and tell rows also
 * give the CPU time per message of requester + responder + Redis over the
 * same measured intervals (bench/cpu.ts says how, and how far to trust it).
 * Prints one table with the ratios and the targets, writes
 * bench/results.json, and exits non-zero when a reply did not match its
 * request (speed for wrong work is not reported).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ActorSystem, startRedisServer } from 'redis-actors';
import {
  CpuFigures,
  cpuRun,
  procCpuSampler,
  redisServerPid,
  waitForQuiet,
  watchCpu,
} from './cpu.js';
import { median, printTable, target } from './report.js';
import { Role } from './rpc.js';
import { measurePresence, presenceLines, presenceOnly, presenceTargets } from './presence.js';
import { measureSpawn } from './spawn.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    base: { type: 'string' },
    // Only the presence rows (bench/presence.ts).
    presence: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const benchDir = path.dirname(new URL(import.meta.url).pathname);

const plan = quick
  ? {
      rounds: 1,
      latencyRounds: 1,
      warmupMs: 200,
      durationMs: 400,
      // The rows of the CPU figures that matter (256 in flight, tells): long enough to trim.
      cpuRowMs: 2000,
      // Each contender, before anything is measured, at 16 and 256 in flight and in tells.
      shapeWarmupMs: 800,
      // Before each of those rows, wait at most this long for other work on the machine to stop.
      quietWaitMs: 10_000,
      latencyCount: 1000,
      latencyWarmup: 300,
      spawns: 3,
      presence: {
        idleMs: 4000,
        askRounds: 1,
        askMs: 1000,
        askWarmupMs: 300,
        peersWarmupMs: 3000,
        quietWaitMs: 5000,
      },
      large: [
        [1, 5],
        [16, 2],
        [128, 1],
      ],
    }
  : {
      rounds: 3,
      latencyRounds: 5,
      warmupMs: 500,
      durationMs: 2000,
      cpuRowMs: 2000,
      shapeWarmupMs: 1500,
      quietWaitMs: 20_000,
      latencyCount: 10_000,
      latencyWarmup: 2000,
      spawns: 20,
      presence: {
        idleMs: 10_000,
        askRounds: 3,
        askMs: 2000,
        askWarmupMs: 500,
        peersWarmupMs: 5000,
        quietWaitMs: 10_000,
      },
      large: [
        [1, 60],
        [16, 10],
        [128, 4],
      ],
    };
const INFLIGHT = [1, 16, 256] as const;
const TELL_WINDOW = 2000;

const log = (line: string) => process.stderr.write(`${line}\n`);
if (values.presence) process.exit(await presenceOnly(plan.presence, log));

interface LatencyResult {
  p50Us: number;
  p99Us: number;
  mismatches: number;
}
interface ThroughputResult {
  perSecond: number;
  mismatches: number;
}

const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-bench-'));
const redis = await startRedisServer({ dir: runDir });
const socketPath = redis.socketPath;
const namespace = `bench${process.pid}`;
const redisCpu = procCpuSampler(await redisServerPid(socketPath, redis.pid));
log(
  `bench: ${quick ? 'quick' : 'full'} run on ${os.cpus().length} cores, Node ${process.version}, Redis at ${redis.url}`,
);

/** A contender's responder and requester: `<dir>/roles/<file>` run as each, with the same arguments. */
function contender(label: string, tag: string, file: string, args: string[], dir = benchDir) {
  const role = (side: 'responder' | 'requester') =>
    Role.start(`${tag}-${side}`, path.join(dir, 'roles', file), [side, ...args]);
  return { label, responder: role('responder'), requester: role('requester') };
}

// `--base <checkout>`: redis-actors as built in another checkout (with this bench/) runs
// too, right after ours in every round: the way to compare two versions on a noisy machine.
const base =
  values.base === undefined
    ? {}
    : {
        oursBase: contender(
          'redis-actors (base)',
          'base',
          'ours.ts',
          [redis.url, `${namespace}b`],
          path.join(path.resolve(values.base), 'bench'),
        ),
      };
const fixed = {
  ours: contender('redis-actors', 'ours', 'ours.ts', [redis.url, namespace]),
  oursSecret: contender('redis-actors, namespace secret', 'secret', 'ours.ts', [
    redis.url,
    `${namespace}s`,
    `base64:${randomBytes(32).toString('base64')}`,
  ]),
  ...base,
  rawPlain: contender('raw ioredis', 'raw', 'raw.ts', [socketPath, 'plain', `${namespace}p`]),
  rawAuto: contender('raw ioredis, autopipelining', 'rawauto', 'raw.ts', [
    socketPath,
    'auto',
    `${namespace}a`,
  ]),
  moleculer: contender('Moleculer 0.14 (Redis)', 'moleculer', 'moleculer.ts', [
    socketPath,
    `${namespace}m`,
  ]),
};
type ContenderName = keyof typeof fixed | 'oursBase';
// Indexed only by the names below (oursBase only when it runs) and by the fixed ones.
const contenders = fixed as Record<ContenderName, (typeof fixed)['ours']>;
const names = Object.keys(contenders) as ContenderName[];
/** The contenders with a one-way send (Moleculer's is not measured). */
const TELLERS = names.filter((name) => name !== 'moleculer');
const isTeller = (name: string) => (TELLERS as string[]).includes(name);
/** Contenders in the order of a round: reversed every other round, so that no one is always first. */
const inRound = <T>(list: T[], round: number) => (round % 2 === 0 ? list : [...list].reverse());

let mismatches = 0;
const results: Record<string, unknown> = {};
let waitedForQuietMs = 0;
/** Before a row of the CPU figures that matter: wait a little for other work on the machine to stop. */
const quietPlease = async () => {
  const waited = await waitForQuiet(plan.quietWaitMs);
  if (waited > 1000) log(`  waited ${(waited / 1000).toFixed(1)} s for other work on this machine`);
  waitedForQuietMs += waited;
};

try {
  // Responders first (they subscribe), then requesters.
  for (const name of names) await contenders[name].responder.call('noop');
  for (const name of names) await contenders[name].requester.call('noop');

  // Warm every contender's code paths (the JIT, buffers, heap sizes) before measuring
  // anything, in every shape: the first seconds at 256 in flight or of tells cost
  // more CPU per message than the next ones.
  log('warming up…');
  for (const name of names) {
    const { requester } = contenders[name];
    for (const inflight of [16, 256]) {
      await requester.call('throughput', { inflight, durationMs: plan.shapeWarmupMs, warmupMs: 0 });
    }
    if (isTeller(name)) {
      await requester.call('tells', { window: TELL_WINDOW, durationMs: plan.shapeWarmupMs });
    }
    await requester.call('latency', { count: plan.latencyWarmup, warmup: 0 });
  }

  log('sequential ask latency…');
  const latencyRuns: Partial<Record<ContenderName, LatencyResult[]>> = {};
  for (let round = 0; round < plan.latencyRounds; round++) {
    for (const name of names) {
      const result = await contenders[name].requester.call<LatencyResult>('latency', {
        count: plan.latencyCount,
        warmup: plan.latencyWarmup / 4,
      });
      mismatches += result.mismatches;
      (latencyRuns[name] ??= []).push(result);
    }
  }
  // The median round of each contender (by p50), for both its p50 and p99.
  const latency: Partial<Record<ContenderName, LatencyResult>> = {};
  for (const name of names) {
    const runs = [...(latencyRuns[name] ?? [])].sort((a, b) => a.p50Us - b.p50Us);
    latency[name] = runs[Math.floor(runs.length / 2)];
  }

  log('asks/s and CPU per ask at 1, 16, 256 in flight…');
  const throughput: Partial<Record<number, Partial<Record<ContenderName, number[]>>>> = {};
  const cpuAsks = Object.fromEntries(INFLIGHT.map((inflight) => [inflight, new CpuFigures()]));
  for (let round = 0; round < plan.rounds; round++) {
    for (const inflight of INFLIGHT) {
      const row = (throughput[inflight] ??= {});
      const durationMs = inflight === 256 ? plan.cpuRowMs : plan.durationMs;
      for (const name of inRound(names, round)) {
        if (inflight === 256) await quietPlease();
        // The requester times its own interval; the CPU of every process is sampled
        // here over the same interval (the load goes on a little after it).
        const begun = performance.now();
        const measuring = contenders[name].requester.call<ThroughputResult>('throughput', {
          inflight,
          durationMs,
          warmupMs: plan.warmupMs,
          tailMs: 100,
        });
        const snapshots = await watchCpu(
          contenders[name],
          redisCpu,
          begun + plan.warmupMs,
          durationMs,
        );
        const result = await measuring;
        mismatches += result.mismatches;
        (row[name] ??= []).push(result.perSecond);
        cpuAsks[inflight]?.add(name, cpuRun(snapshots, 'requester'));
      }
    }
  }

  log('tells/s and CPU per tell (one-way, counted by the receiver)…');
  const tells: Partial<Record<ContenderName, number[]>> = {};
  const cpuTells = new CpuFigures();
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of inRound(TELLERS, round)) {
      await quietPlease();
      const sending = contenders[name].requester.call('tells', {
        window: TELL_WINDOW,
        durationMs: plan.warmupMs + plan.cpuRowMs + 300,
      });
      const snapshots = await watchCpu(
        contenders[name],
        redisCpu,
        performance.now() + plan.warmupMs,
        plan.cpuRowMs,
      );
      const first = snapshots[0]?.responder;
      const last = snapshots[snapshots.length - 1]?.responder;
      if (first !== undefined && last !== undefined) {
        (tells[name] ??= []).push(((last.count - first.count) * 1e9) / (last.atNs - first.atNs));
      }
      cpuTells.add(name, cpuRun(snapshots, 'responder'));
      await sending;
    }
  }
  const oursTicks = await contenders.ours.responder.call<{ dropped: Record<string, number> }>(
    'ticks',
  );

  log('large payloads…');
  const large: Record<string, { ours: number; raw: number; oursOk: boolean; rawOk: boolean }> = {};
  const clientIdsBefore = await subscriberIds();
  let connectionLosses = 0;
  const watcher = await ActorSystem.start({ url: redis.url, namespace });
  watcher.on('connection-lost', () => connectionLosses++);
  for (const [megabytes, reps] of plan.large as [number, number][]) {
    const bytes = megabytes * 1024 * 1024;
    const oursRuns: number[] = [];
    const rawRuns: number[] = [];
    let oursOk = true;
    let rawOk = true;
    for (let rep = 0; rep < reps; rep++) {
      const a = await contenders.ours.requester.call<{ ms: number; ok: boolean }>('large', {
        bytes,
      });
      const b = await contenders.rawPlain.requester.call<{ ms: number; ok: boolean }>('large', {
        bytes,
      });
      oursRuns.push(a.ms);
      rawRuns.push(b.ms);
      oursOk &&= a.ok;
      rawOk &&= b.ok;
    }
    if (!oursOk || !rawOk) mismatches++;
    large[`${megabytes} MB`] = {
      ours: megabytes / (median(oursRuns) / 1000),
      raw: megabytes / (median(rawRuns) / 1000),
      oursOk,
      rawOk,
    };
  }
  const clientIdsAfter = await subscriberIds();
  const subscribersDisconnected = [...clientIdsBefore].filter(
    (id) => !clientIdsAfter.has(id),
  ).length;
  await watcher.stop();

  // Last of the framework rows: the 10k asks it leaves pending would weigh on later rows.
  log('memory of pending asks…');
  const pendingMemory = await contenders.ours.requester.call<{ bytes: number; pending: number }>(
    'pendingMemory',
    {
      count: 10_000,
    },
  );

  log('spawn to READY…');
  const spawn = await measureSpawn({
    url: redis.url,
    namespace: `${namespace}spawn`,
    socketPath,
    count: plan.spawns,
  });

  log('presence: idle cost, many processes…');
  const presence = await measurePresence(plan.presence, log);
  mismatches += presence.mismatches;

  results.latency = { median: latency, runs: latencyRuns };
  results.throughput = Object.fromEntries(
    Object.entries(throughput).map(([inflight, row]) => [
      inflight,
      Object.fromEntries(
        Object.entries(row ?? {}).map(([name, runs]) => [name, { median: median(runs), runs }]),
      ),
    ]),
  );
  results.tells = Object.fromEntries(
    Object.entries(tells).map(([name, runs]) => [name, { median: median(runs), runs }]),
  );
  const cpuAsk = (inflight: number, name: string) => cpuAsks[inflight]?.figure(name);
  const cpuTell = (name: string) => cpuTells.figure(name);
  /** Ours over `other`, CPU per ask at 256 in flight and per tell, to 3 digits. */
  const cpuVs = (other: ContenderName) => {
    const ratio = (a?: { totalUs: number }, b?: { totalUs: number }) =>
      Number(((a?.totalUs ?? NaN) / (b?.totalUs ?? NaN)).toFixed(3));
    return {
      askAt256: ratio(cpuAsk(256, 'ours'), cpuAsk(256, other)),
      tell: ratio(cpuTell('ours'), cpuTell(other)),
    };
  };
  const cpuRatios = {
    rawIoredis: cpuVs('rawPlain'),
    base: names.includes('oursBase') ? cpuVs('oursBase') : undefined,
  };
  // How much of the CPU rows that matter other work on the machine spoilt.
  const headline = [...(cpuAsks[256]?.figures() ?? []), ...cpuTells.figures()];
  const cpuQuiet = {
    slices: headline.reduce((sum, figure) => sum + figure.slices, 0),
    quiet: headline.reduce((sum, figure) => sum + figure.quietSlices, 0),
    leastQuiet: Math.min(...headline.map((figure) => figure.quietSlices / figure.slices)),
  };
  results.cpuPerMessage = {
    about:
      'CPU µs (user + system) per message of requester + responder + Redis server, split by process, over the measured intervals cut in 250 ms slices: of the slices of every round in which other processes used at most 0.3 cores, the middle half by CPU per message, pooled. runs: each round, its slices in time order.',
    asks: cpuAsks,
    tells: cpuTells,
    oursVsRawIoredis: cpuRatios.rawIoredis,
    oursVsBase: cpuRatios.base,
    quietSlices: cpuQuiet,
    waitedForQuietMs: Math.round(waitedForQuietMs),
  };
  results.oursDropped = oursTicks.dropped;
  results.pendingAsks = {
    count: 10_000,
    bytes: pendingMemory.bytes,
    pending: pendingMemory.pending,
  };
  results.large = large;
  results.subscribersDisconnected = subscribersDisconnected;
  results.connectionLosses = connectionLosses;
  results.spawn = spawn;
  results.presence = presence;

  const at = (inflight: number, name: ContenderName) => median(throughput[inflight]?.[name] ?? []);
  const tellRate = (name: ContenderName) => median(tells[name] ?? []);
  const p50 = (name: ContenderName) => latency[name]?.p50Us ?? NaN;
  const targets = [
    target('sequential ask p50 vs raw ioredis p50', p50('ours') / p50('rawPlain'), '<=', 1.15),
    target(
      'asks/s at 256 in flight vs raw ioredis',
      at(256, 'ours') / at(256, 'rawPlain'),
      '>=',
      2.0,
    ),
    target(
      'tells/s vs raw ioredis one-way publish',
      tellRate('ours') / tellRate('rawPlain'),
      '>=',
      2.5,
    ),
    target(
      'asks/s at 256 in flight vs Moleculer',
      at(256, 'ours') / at(256, 'moleculer'),
      '>=',
      3.0,
    ),
    target(
      'CPU per ask at 256 in flight, with a namespace secret vs without',
      (cpuAsk(256, 'oursSecret')?.totalUs ?? NaN) / (cpuAsk(256, 'ours')?.totalUs ?? NaN),
      '<=',
      1.3,
    ),
    target(
      'spawn-to-READY p50 vs bare node + connect',
      spawn.oursP50Ms / spawn.bareP50Ms,
      '<=',
      2.0,
    ),
    ...Object.entries(large).map(([size, row]) =>
      target(`${size} ask MB/s vs raw SET+GET`, row.ours / row.raw, '>=', 0.8),
    ),
    ...presenceTargets(presence),
  ];
  results.targets = targets;

  printTable({
    columns: names.map((name) => ({
      name,
      label: contenders[name].label,
      tells: isTeller(name),
    })),
    inflight: INFLIGHT,
    latency: (name) => latency[name as ContenderName],
    at: (inflight, name) => at(inflight, name as ContenderName),
    tellRate: (name) => tellRate(name as ContenderName),
    cpuAsk,
    cpuTell,
    cpuRatios,
    cpuQuiet,
    pendingMemory,
    large,
    spawn,
    presence: presenceLines(presence),
    targets,
    subscribersDisconnected,
    connectionLosses,
  });
  const output = {
    date: new Date().toISOString(),
    quick,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    plan,
    mismatches,
    ...results,
  };
  fs.writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify(output, null, 2)}\n`);
  log(`results written to bench/results.json`);
  if (mismatches > 0) {
    log(`FAILED: ${mismatches} replies did not match their requests`);
    process.exitCode = 1;
  }
} finally {
  for (const name of names) {
    await contenders[name].requester.stop();
    await contenders[name].responder.stop();
  }
  await redis.stop();
  fs.rmSync(runDir, { recursive: true, force: true });
}

/** Ids of the subscriber connections, to see whether Redis dropped any. */
async function subscriberIds(): Promise<Set<string>> {
  const probe = new Redis({ path: socketPath });
  try {
    const list = (await probe.client('LIST')) as string;
    return new Set([...list.matchAll(/id=(\d+) [^\n]*sub=[1-9]/g)].map((match) => match[1] ?? ''));
  } finally {
    probe.disconnect();
  }
}
