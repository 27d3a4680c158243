/**
 * What presence costs, on a redis-server of its own (the contenders' idle
 * processes would count too on the bench's): the commands Redis runs per
 * second while one process hosting 1, 1,000 or 10,000 named actors does
 * nothing (INFO commandstats, which counts the commands scripts run too),
 * and asks/s with 100 processes of one actor each against 2, with the same
 * 256 asks in flight in all: one process asking another while the rest only
 * keep their presence, and every process asking the next.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ActorSystem, defineActor, startRedisServer } from 'redis-actors';
import { waitForQuiet } from './cpu.js';
import { type Target, median, target } from './report.js';
import { Role } from './rpc.js';

const benchDir = path.dirname(new URL(import.meta.url).pathname);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PresencePlan {
  /** How long each idle process is watched (whole presence intervals of 2 s). */
  idleMs: number;
  /** Rounds of each asks/s row, and how long each is measured after its warm-up. */
  askRounds: number;
  askMs: number;
  askWarmupMs: number;
  /**
   * An unmeasured run of every peer asking, first: a hundred fresh processes
   * take seconds of CPU on 2 cores before their code is compiled.
   */
  peersWarmupMs: number;
  /** Before each measured round, wait at most this long for other work on the machine to stop. */
  quietWaitMs: number;
}

export interface IdleRow {
  actors: number;
  /** Every command Redis ran, per second, but the INFO calls counting them. */
  perSecond: number;
  /** The same without the transport's health-check PINGs (one per connection a second). */
  withoutPingsPerSecond: number;
  byCommand: Record<string, number>;
  /** Renewals of what is kept for a day (each name claim, the hash, the index), per second on average. */
  renewalsPerSecond: number;
}

export interface PresenceResults {
  idle: IdleRow[];
  /** Asks/s summed over the askers: median of the rounds. */
  asks: { processes: number; shape: AskShape; perSecond: number; runs: number[] }[];
  mismatches: number;
}

const KEPT_HALF_S = 43_200;

/** Calls of each command Redis ran so far. */
async function commandCalls(raw: Redis): Promise<Map<string, number>> {
  const info = await raw.info('commandstats');
  const calls = new Map<string, number>();
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(name ?? '', Number(count));
  }
  return calls;
}

/** Commands Redis ran over `ms`, by command, the INFO that counted them left out. */
async function commandsDuring(raw: Redis, ms: number): Promise<Record<string, number>> {
  const before = await commandCalls(raw);
  await sleep(ms);
  const after = await commandCalls(raw);
  const ran: Record<string, number> = {};
  for (const [name, count] of after) {
    const delta = count - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (delta > 0) ran[name] = delta;
  }
  return ran;
}

async function idleRow(url: string, raw: Redis, actors: number, ms: number): Promise<IdleRow> {
  const system = await ActorSystem.start({ url, namespace: `idle${actors}` });
  try {
    const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
    for (let i = 0; i < actors; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, actors - i) }, (_, j) =>
          system.spawn(echo, { name: `idle-${i + j}` }),
        ),
      );
    }
    // Past the spawns' own commands, and aligned on nothing in particular.
    await sleep(1000);
    const byCommand = await commandsDuring(raw, ms);
    const total = Object.values(byCommand).reduce((sum, n) => sum + n, 0);
    return {
      actors,
      perSecond: (total * 1000) / ms,
      withoutPingsPerSecond: ((total - (byCommand.ping ?? 0)) * 1000) / ms,
      byCommand,
      // Each name claim, and the hash, the index member, its purge and the index's TTL.
      renewalsPerSecond: (actors + 4) / KEPT_HALF_S,
    };
  } finally {
    await system.stop();
  }
}

/** `count` peers (bench/roles/peer.mjs) in `namespace`, each hosting `peer-<i>`. */
async function startPeers(url: string, namespace: string, count: number): Promise<Role[]> {
  const peers: Role[] = [];
  // Ten at a time: a hundred Node processes starting at once on 2 cores time each other out.
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => {
      const child = fork(path.join(benchDir, 'roles/peer.mjs'), [url, namespace, `peer-${i + j}`], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      return new Role(`peer-${i + j}`, child);
    });
    peers.push(...batch);
    await Promise.all(batch.map((peer) => peer.call('noop')));
  }
  return peers;
}

/**
 * Who asks: `pair`, peer 0 asks peer 1 with all 256 in flight while the
 * others only keep their presence; `ring`, every peer asks the next one's
 * actor, the 256 split among them.
 */
export type AskShape = 'pair' | 'ring';

/** Asks by name, 256 in flight in all, for warmupMs + durationMs: asks/s summed over the askers. */
async function askRun(peers: Role[], shape: AskShape, durationMs: number, warmupMs: number) {
  const askers = shape === 'pair' ? peers.slice(0, 1) : peers;
  const results = await Promise.all(
    askers.map((peer, i) =>
      peer.call<{ perSecond: number; mismatches: number }>('asks', {
        target: `peer-${(i + 1) % peers.length}`,
        inflight: Math.floor(256 / askers.length) + (i < 256 % askers.length ? 1 : 0),
        durationMs,
        warmupMs,
      }),
    ),
  );
  return {
    perSecond: results.reduce((sum, result) => sum + result.perSecond, 0),
    mismatches: results.reduce((sum, result) => sum + result.mismatches, 0),
  };
}

export async function measurePresence(
  plan: PresencePlan,
  log: (line: string) => void,
): Promise<PresenceResults> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-bench-presence-'));
  const redis = await startRedisServer({ dir });
  const raw = new Redis({ path: redis.socketPath });
  try {
    await raw.ping();
    const idle: IdleRow[] = [];
    for (const actors of [1, 1000, 10_000]) {
      log(`  idle, ${actors} actors in one process…`);
      idle.push(await idleRow(redis.url, raw, actors, plan.idleMs));
    }
    const asks: PresenceResults['asks'] = [];
    let mismatches = 0;
    for (const processes of [2, 100]) {
      log(`  asks/s, ${processes} processes × 1 actor…`);
      const peers = await startPeers(redis.url, `peers${processes}`, processes);
      try {
        mismatches += (await askRun(peers, 'ring', plan.peersWarmupMs, 0)).mismatches;
        for (const shape of ['pair', 'ring'] as const) {
          const runs: number[] = [];
          for (let round = 0; round < plan.askRounds; round++) {
            const waited = await waitForQuiet(plan.quietWaitMs);
            if (waited > 1000) log(`  waited ${(waited / 1000).toFixed(1)} s for other work`);
            const run = await askRun(peers, shape, plan.askMs, plan.askWarmupMs);
            mismatches += run.mismatches;
            runs.push(run.perSecond);
          }
          asks.push({ processes, shape, perSecond: median(runs), runs });
        }
      } finally {
        await Promise.all(peers.map((peer) => peer.stop()));
      }
    }
    return { idle, asks, mismatches };
  } finally {
    raw.disconnect();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Asks/s of `shape` among `processes`. */
function asksAt(results: PresenceResults, processes: number, shape: AskShape): number {
  const row = results.asks.find((each) => each.processes === processes && each.shape === shape);
  return row?.perSecond ?? NaN;
}

/** The lines the table prints for these results. */
export function presenceLines(results: PresenceResults): string[] {
  const idle = results.idle;
  const figures = (pick: (row: IdleRow) => number) =>
    idle.map((row) => pick(row).toFixed(2)).join(' / ');
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const actors = idle.map((row) => row.actors.toLocaleString('en')).join(' / ');
  return [
    `idle Redis commands/s with ${actors} actors in one process: ${figures((row) => row.perSecond)} ` +
      `(without health-check PINGs: ${figures((row) => row.withoutPingsPerSecond)}; ` +
      `plus renewals of what is kept for a day, on average ${figures((row) => row.renewalsPerSecond)})`,
    `asks/s with 100 processes × 1 actor each, one of them asking another (256 in flight): ` +
      `${k(asksAt(results, 100, 'pair'))} (2 processes: ${k(asksAt(results, 2, 'pair'))})`,
    `asks/s with 100 processes × 1 actor each, each asking the next (256 in flight in all): ` +
      `${k(asksAt(results, 100, 'ring'))} (2 processes: ${k(asksAt(results, 2, 'ring'))})`,
  ];
}

/** The goals of issue 13 for these rows. */
export function presenceTargets(results: PresenceResults): Target[] {
  const idle = (actors: number) => results.idle.find((row) => row.actors === actors);
  return [
    target(
      'idle commands/s, 10,000 actors in a process vs 1',
      (idle(10_000)?.perSecond ?? NaN) / (idle(1)?.perSecond ?? NaN),
      '<=',
      10,
    ),
    target(
      'idle commands/s at 10,000 actors, health PINGs aside',
      idle(10_000)?.withoutPingsPerSecond ?? NaN,
      '<=',
      2,
    ),
    target(
      'asks/s of a pair among 100 processes vs 2',
      asksAt(results, 100, 'pair') / asksAt(results, 2, 'pair'),
      '>=',
      0.8,
    ),
  ];
}

/** `npm run bench -- --presence`: these rows alone; the exit code. */
export async function presenceOnly(
  plan: PresencePlan,
  log: (line: string) => void,
): Promise<number> {
  log('presence: idle cost, many processes…');
  const results = await measurePresence(plan, log);
  const lines = [...presenceLines(results), ''];
  for (const each of presenceTargets(results)) {
    lines.push(
      `${each.what.padEnd(50)}  ${String(each.ratio).padEnd(6)}  ${each.goal.padEnd(7)}  ${each.met ? 'yes' : 'NO'}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(results)}\n`);
  return results.mismatches === 0 ? 0 : 1;
}
