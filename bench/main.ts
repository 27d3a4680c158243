/**
 * `npm run bench [-- --quick]`: redis-actors against raw ioredis and Moleculer,
 * in one run, on a Redis this bench starts itself (a unix socket, no
 * persistence). Requesters and responders are separate processes. Throughput
 * rows are measured in several rounds, contenders interleaved, and reported
 * as medians, because this machine is noisy. Prints one table with the
 * ratios and the targets, writes bench/results.json, and exits non-zero when
 * a reply did not match its request (speed for wrong work is not reported).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ActorSystem, Supervisor, startRedisServer } from 'redis-actors';
import { Role } from './rpc.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick;
const benchDir = path.dirname(new URL(import.meta.url).pathname);
const repoRoot = path.resolve(benchDir, '..');

const plan = quick
  ? {
      rounds: 1,
      latencyRounds: 1,
      warmupMs: 200,
      durationMs: 400,
      latencyCount: 1000,
      latencyWarmup: 300,
      spawns: 3,
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
      latencyCount: 10_000,
      latencyWarmup: 2000,
      spawns: 20,
      large: [
        [1, 60],
        [16, 10],
        [128, 4],
      ],
    };
const INFLIGHT = [1, 16, 256] as const;
const TELL_WINDOW = 2000;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const log = (line: string) => process.stderr.write(`${line}\n`);

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
log(
  `bench: ${quick ? 'quick' : 'full'} run on ${os.cpus().length} cores, Node ${process.version}, Redis at ${redis.url}`,
);

/** A contender's responder and requester: `roles/<file>` run as each, with the same arguments. */
function contender(label: string, tag: string, file: string, args: string[]) {
  const role = (side: 'responder' | 'requester') =>
    Role.start(`${tag}-${side}`, path.join(benchDir, 'roles', file), [side, ...args]);
  return { label, responder: role('responder'), requester: role('requester') };
}

const contenders = {
  ours: contender('redis-actors', 'ours', 'ours.ts', [redis.url, namespace]),
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
type ContenderName = keyof typeof contenders;
const names = Object.keys(contenders) as ContenderName[];

let mismatches = 0;
const results: Record<string, unknown> = {};

try {
  // Responders first (they subscribe), then requesters.
  for (const name of names) await contenders[name].responder.call('noop');
  for (const name of names) await contenders[name].requester.call('noop');

  // Warm every contender's code paths (the JIT) before measuring anything.
  log('warming up…');
  for (const name of names) {
    await contenders[name].requester.call('throughput', {
      inflight: 16,
      durationMs: plan.warmupMs * 2,
      warmupMs: 0,
    });
    await contenders[name].requester.call('latency', { count: plan.latencyWarmup, warmup: 0 });
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

  log('asks/s at 1, 16, 256 in flight…');
  const throughput: Partial<Record<number, Partial<Record<ContenderName, number[]>>>> = {};
  for (let round = 0; round < plan.rounds; round++) {
    for (const inflight of INFLIGHT) {
      const row = (throughput[inflight] ??= {});
      for (const name of names) {
        const result = await contenders[name].requester.call<ThroughputResult>('throughput', {
          inflight,
          durationMs: plan.durationMs,
          warmupMs: plan.warmupMs,
        });
        mismatches += result.mismatches;
        (row[name] ??= []).push(result.perSecond);
      }
    }
  }

  log('tells/s (one-way, counted by the receiver)…');
  const tells: Partial<Record<ContenderName, number[]>> = {};
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of ['ours', 'rawPlain', 'rawAuto'] as const) {
      const { requester, responder } = contenders[name];
      const sending = requester.call('tells', {
        window: TELL_WINDOW,
        durationMs: plan.warmupMs + plan.durationMs + 300,
      });
      await new Promise((resolve) => setTimeout(resolve, plan.warmupMs));
      const first = await responder.call<{ ticks: number }>('ticks');
      const from = performance.now();
      await new Promise((resolve) => setTimeout(resolve, plan.durationMs));
      const last = await responder.call<{ ticks: number }>('ticks');
      (tells[name] ??= []).push(((last.ticks - first.ticks) * 1000) / (performance.now() - from));
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
  const spawn = await measureSpawn();

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
      'spawn-to-READY p50 vs bare node + connect',
      spawn.oursP50Ms / spawn.bareP50Ms,
      '<=',
      2.0,
    ),
    ...Object.entries(large).map(([size, row]) =>
      target(`${size} ask MB/s vs raw SET+GET`, row.ours / row.raw, '>=', 0.8),
    ),
  ];
  results.targets = targets;

  printTable({
    latency,
    at,
    tellRate,
    pendingMemory,
    large,
    spawn,
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

function target(what: string, ratio: number, comparison: '<=' | '>=', goal: number) {
  const met = comparison === '<=' ? ratio <= goal : ratio >= goal;
  return { what, ratio: Number(ratio.toFixed(2)), goal: `${comparison} ${goal}`, met };
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

async function measureSpawn() {
  const system = await ActorSystem.start({ url: redis.url, namespace: `${namespace}spawn` });
  const supervisor = await Supervisor.start(system, { output: 'ignore' });
  const ours: number[] = [];
  const bare: number[] = [];
  let idleRssKb = 0;
  const spawnBare = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [path.join(benchDir, 'roles/bare-connect.mjs'), socketPath],
        {
          stdio: 'inherit',
        },
      );
      child.once('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`bare-connect exited ${code}`));
      });
    });
  try {
    // Interleaved, so that both see the same machine.
    for (let i = 0; i < plan.spawns; i++) {
      let started = performance.now();
      const child = await supervisor.spawn({
        name: `clock-${i}`,
        module: path.join(repoRoot, 'dist/actors/clock.js'),
      });
      ours.push(performance.now() - started);
      // Let the new child finish booting (its watchdog thread) before timing the next process.
      await new Promise((resolve) => setTimeout(resolve, 150));
      started = performance.now();
      await spawnBare();
      bare.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (i === 0) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        idleRssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      }
    }
  } finally {
    await supervisor.stop();
    await system.stop();
  }
  return {
    oursP50Ms: median(ours),
    bareP50Ms: median(bare),
    idleRssMb: idleRssKb / 1024,
    ours,
    bare,
  };
}

function printTable(data: {
  latency: Partial<Record<ContenderName, LatencyResult>>;
  at: (inflight: number, name: ContenderName) => number;
  tellRate: (name: ContenderName) => number;
  pendingMemory: { bytes: number };
  large: Record<string, { ours: number; raw: number }>;
  spawn: { oursP50Ms: number; bareP50Ms: number; idleRssMb: number };
  targets: ReturnType<typeof target>[];
  subscribersDisconnected: number;
  connectionLosses: number;
}): void {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const rows: string[][] = [['', ...names.map((name) => contenders[name].label)]];
  rows.push([
    'sequential ask p50',
    ...names.map((name) => `${(data.latency[name]?.p50Us ?? NaN).toFixed(0)} µs`),
  ]);
  rows.push([
    'sequential ask p99',
    ...names.map((name) => `${(data.latency[name]?.p99Us ?? NaN).toFixed(0)} µs`),
  ]);
  for (const inflight of INFLIGHT) {
    rows.push([
      `asks/s, ${inflight} in flight`,
      ...names.map((name) => k(data.at(inflight, name))),
    ]);
  }
  rows.push([
    'tells/s (one-way)',
    ...names.map((name) => (name === 'moleculer' ? '-' : k(data.tellRate(name)))),
  ]);
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const render = (row: string[]) =>
    row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  const lines = rows.map(render);
  lines.push('');
  lines.push(
    `spawn to READY p50: ${data.spawn.oursP50Ms.toFixed(0)} ms (bare node + connect + exit: ${data.spawn.bareP50Ms.toFixed(0)} ms)`,
  );
  lines.push(`RSS of an idle actor process: ${data.spawn.idleRssMb.toFixed(1)} MB`);
  lines.push(
    `memory for 10k pending asks: ${(data.pendingMemory.bytes / 1024 / 1024).toFixed(1)} MB`,
  );
  for (const [size, row] of Object.entries(data.large)) {
    lines.push(
      `${size} Float64Array ask: ${row.ours.toFixed(0)} MB/s (raw ioredis SET+GET: ${row.raw.toFixed(0)} MB/s)`,
    );
  }
  lines.push(
    `subscribers disconnected by Redis: ${data.subscribersDisconnected}; connection losses seen: ${data.connectionLosses}`,
  );
  lines.push('');
  lines.push('target                                              ratio   goal     met');
  for (const each of data.targets) {
    lines.push(
      `${each.what.padEnd(50)}  ${String(each.ratio).padEnd(6)}  ${each.goal.padEnd(7)}  ${each.met ? 'yes' : 'NO'}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
