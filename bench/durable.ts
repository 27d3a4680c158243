/**
 * `npm run bench:durable [-- --quick]`: durable mailboxes (a Redis Stream per
 * actor) against what a user would otherwise build, on a redis-server this
 * bench starts itself (a unix socket, no persistence): a hand-written
 * XADD / XREADGROUP + XACK + XDEL loop on ioredis, and a BullMQ queue and
 * worker. Each contender is a producer process and a consumer process; the
 * one-way rows count what the consumer handled while the producer keeps
 * 2,000 sends unacknowledged, with the CPU per message of producer,
 * consumer and Redis (bench/cpu.ts). redis-actors also gives durable asks/s
 * at 256 in flight and the sequential ask latency of a durable mailbox next
 * to a pub/sub one in the same processes. Rounds interleaved, medians;
 * prints markdown tables and the targets, writes bench/durable-results.json,
 * and exits non-zero when a message or reply did not match its request, or
 * when a consumer handled more or fewer messages than were acknowledged.
 *
 * `--bullmq-concurrency <n>` and `--bullmq-adds add|bulk` try BullMQ
 * settings other than the defaults (the fastest found here, see
 * bench/README.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from 'redis-actors';
import { CpuFigures, procCpuSampler, redisServerPid, waitForQuiet } from './cpu.js';
import { type Latency, printDurableReport } from './durable-report.js';
import {
  type Contender,
  CommandsPerMessage,
  OneWayTally,
  commandCalls,
  measureAsks,
  measureOneWay,
  runOneWay,
} from './durable-rows.js';
import { median, target } from './report.js';
import { Role } from './rpc.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'bullmq-concurrency': { type: 'string', default: '64' },
    // BullMQ at its fastest here: of concurrency 1, 16 and 64, and queue.add against
    // addBulk of 100, on quiet runs 64 with addBulk handled 12.9k-14.1k jobs/s, 64 with
    // queue.add 10.3k-11.8k, 16 about 6k-7.5k, 1 about 1.8k-2.5k (bench/README.md).
    'bullmq-adds': { type: 'string', default: 'bulk' },
  },
});
const quick = values.quick;
const bullmqConcurrency = Number(values['bullmq-concurrency']);
const bullmqAdds = values['bullmq-adds'];
if (!Number.isSafeInteger(bullmqConcurrency) || bullmqConcurrency < 1) {
  throw new Error(`--bullmq-concurrency must be a positive integer, got ${bullmqConcurrency}`);
}
if (bullmqAdds !== 'add' && bullmqAdds !== 'bulk') {
  throw new Error(`--bullmq-adds must be add or bulk, got ${bullmqAdds}`);
}
const plan = quick
  ? {
      rounds: 2,
      warmupMs: 300,
      rowMs: 2000,
      shapeWarmupMs: 800,
      quietWaitMs: 5000,
      latencyRounds: 1,
      latencyCount: 1000,
      latencyWarmup: 300,
    }
  : {
      rounds: 3,
      warmupMs: 500,
      rowMs: 2000,
      shapeWarmupMs: 1500,
      quietWaitMs: 15_000,
      latencyRounds: 3,
      latencyCount: 2000,
      latencyWarmup: 500,
    };
/** Sends unacknowledged at most, in every one-way row (as main.ts's tells). */
const WINDOW = 2000;
const ASKS_IN_FLIGHT = 256;
const benchDir = path.dirname(new URL(import.meta.url).pathname);
const log = (line: string) => process.stderr.write(`${line}\n`);
const bullmqVersion = (
  JSON.parse(
    fs.readFileSync(path.join(benchDir, '..', 'node_modules', 'bullmq', 'package.json'), 'utf8'),
  ) as { version: string }
).version;

/** Which build of redis-actors the roles run (dist/, which the durable mailbox work rebuilds often). */
const digestFile = path.join(benchDir, '..', 'dist', 'source-digest.txt');
const oursBuild = fs.existsSync(digestFile)
  ? {
      sourceDigest: fs.readFileSync(digestFile, 'utf8').trim(),
      builtAt: fs.statSync(digestFile).mtime.toISOString(),
    }
  : undefined;

const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-bench-durable-'));
const redis = await startRedisServer({ dir: runDir });
const { socketPath } = redis;
const redisCpu = procCpuSampler(await redisServerPid(socketPath, redis.pid));
/** The orchestrator's own connection: INFO commandstats, the streams left at the end. */
const probe = new Redis({ path: socketPath });
const namespace = `benchd${process.pid}`;
log(
  `bench:durable: ${quick ? 'quick' : 'full'} run on ${os.cpus().length} cores, Node ${process.version}, Redis at ${redis.url}, dist/ built ${oursBuild?.builtAt ?? '?'} (sources ${oursBuild?.sourceDigest.slice(0, 12) ?? '?'})`,
);

const roles = (tag: string, file: string, args: string[]) => ({
  requester: Role.start(`${tag}-requester`, path.join(benchDir, 'roles', file), [
    'requester',
    ...args,
  ]),
  responder: Role.start(`${tag}-responder`, path.join(benchDir, 'roles', file), [
    'responder',
    ...args,
  ]),
});
const contenders = {
  rawStream: {
    label: 'raw ioredis stream loop',
    ...roles('stream', 'raw-stream.ts', [socketPath, `rawstream${process.pid}`]),
  },
  bullmq: {
    label: `BullMQ ${bullmqVersion} (concurrency ${bullmqConcurrency}, ${bullmqAdds === 'add' ? 'queue.add' : 'addBulk of 100'})`,
    ...roles('bullmq', 'bullmq.ts', [
      socketPath,
      `${namespace}-bullmq`,
      String(bullmqConcurrency),
      bullmqAdds,
    ]),
  },
  ours: {
    label: 'redis-actors durable',
    ...roles('durable', 'ours-durable.ts', [redis.url, namespace]),
  },
} satisfies Record<string, Contender>;
type Name = keyof typeof contenders;
const names = Object.keys(contenders) as Name[];
/** Contenders in the order of a round: reversed every other round, so that no one is always first. */
const inRound = <T>(list: T[], round: number) => (round % 2 === 0 ? list : [...list].reverse());
const tallies = Object.fromEntries(names.map((name) => [name, new OneWayTally()])) as Record<
  Name,
  OneWayTally
>;

let mismatches = 0;
let waitedForQuietMs = 0;
const quietPlease = async () => {
  const waited = await waitForQuiet(plan.quietWaitMs);
  if (waited > 1000) log(`  waited ${(waited / 1000).toFixed(1)} s for other work on this machine`);
  waitedForQuietMs += waited;
};
const timing = { warmupMs: plan.warmupMs, rowMs: plan.rowMs };

try {
  // Consumers first (they create their group, subscribe, or start their worker).
  for (const name of names) await contenders[name].responder.call('noop');
  for (const name of names) await contenders[name].requester.call('noop');

  log('warming up…');
  for (const name of names) {
    await runOneWay(contenders[name], tallies[name], WINDOW, plan.shapeWarmupMs);
  }
  const ours = contenders.ours;
  // Replies are checked in the warm-up too: a wrong one fails the run wherever it comes.
  const warmAsks = await measureAsks(ours, redisCpu, ASKS_IN_FLIGHT, {
    warmupMs: 0,
    rowMs: plan.shapeWarmupMs,
  });
  mismatches += warmAsks.mismatches;
  for (const mailbox of ['durable', 'pubSub']) {
    const warmLatency = await ours.requester.call<Latency>('latency', {
      mailbox,
      count: plan.latencyWarmup,
      warmup: 0,
    });
    mismatches += warmLatency.mismatches;
  }

  log('one-way: messages/s handled by the consumer, CPU per message…');
  const handled: Partial<Record<Name, number[]>> = {};
  const acknowledged: Partial<Record<Name, number[]>> = {};
  const cpuWholeCycle = new CpuFigures();
  const cpuDuringLoad = new CpuFigures();
  const commands = new CommandsPerMessage();
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of inRound(names, round)) {
      await quietPlease();
      const commandsBefore = await commandCalls(probe);
      const row = await measureOneWay(contenders[name], redisCpu, tallies[name], WINDOW, timing);
      commands.add(name, commandsBefore, await commandCalls(probe), row.cpu.wholeCycle.run.count);
      (handled[name] ??= []).push(row.perSecond);
      (acknowledged[name] ??= []).push(row.acknowledgedPerSecond);
      cpuWholeCycle.add(name, row.cpu.wholeCycle);
      cpuDuringLoad.add(name, row.cpu.duringLoad);
      log(
        `  round ${round + 1}: ${name} ${Math.round(row.perSecond)}/s handled, ${Math.round(row.acknowledgedPerSecond)}/s acknowledged`,
      );
    }
  }

  log(`durable asks/s at ${ASKS_IN_FLIGHT} in flight, CPU per ask…`);
  const durableAsks: number[] = [];
  const cpuDurableAsk = new CpuFigures();
  for (let round = 0; round < plan.rounds; round++) {
    await quietPlease();
    const row = await measureAsks(ours, redisCpu, ASKS_IN_FLIGHT, timing);
    mismatches += row.mismatches;
    durableAsks.push(row.perSecond);
    cpuDurableAsk.add('ours', row.cpu);
  }

  log('sequential ask latency, durable and pub/sub mailbox…');
  type Mailbox = 'durable' | 'pubSub';
  const latencyRuns: Record<Mailbox, Latency[]> = { durable: [], pubSub: [] };
  // Which round trips a sequential ask makes: the commands Redis ran per ask.
  const commandsPerAsk = new CommandsPerMessage();
  for (let round = 0; round < plan.latencyRounds; round++) {
    for (const mailbox of inRound<Mailbox>(['durable', 'pubSub'], round)) {
      const warmup = plan.latencyWarmup / 4;
      const commandsBefore = await commandCalls(probe);
      const result = await ours.requester.call<Latency>('latency', {
        mailbox,
        count: plan.latencyCount,
        warmup,
      });
      commandsPerAsk.add(
        mailbox,
        commandsBefore,
        await commandCalls(probe),
        plan.latencyCount + warmup,
      );
      mismatches += result.mismatches;
      latencyRuns[mailbox].push(result);
    }
  }
  // The median round (by p50), for both its p50 and p99.
  const latency = (mailbox: Mailbox): Latency | undefined =>
    [...latencyRuns[mailbox]].sort((a, b) => a.p50Us - b.p50Us)[
      Math.floor(latencyRuns[mailbox].length / 2)
    ];

  // What the consumers saw that they should not have.
  const oneWayMismatches = Object.fromEntries(
    await Promise.all(
      names.map(async (name) => [
        name,
        await contenders[name].responder.call<number>('oneWayMismatches'),
      ]),
    ),
  ) as Record<Name, number>;
  mismatches += Object.values(oneWayMismatches).reduce((sum, each) => sum + each, 0);
  const bullmqFailedJobs = await contenders.bullmq.responder.call<number>('failedJobs');
  const rawStreamLength = await contenders.rawStream.responder.call<number>('streamLength');
  const oursDropped = await ours.responder.call<Record<string, number>>('dropped');
  const oursStreams = await streamsUnder(namespace);

  const rate = (name: Name) => median(handled[name] ?? []);
  const p50 = (mailbox: Mailbox) => latency(mailbox)?.p50Us ?? NaN;
  const targets = [
    target('durable tells/s vs BullMQ jobs/s', rate('ours') / rate('bullmq'), '>=', 2),
    target('durable tells/s vs the raw stream loop', rate('ours') / rate('rawStream'), '>=', 0.7),
    target('durable ask p50 vs pub/sub ask p50', p50('durable') / p50('pubSub'), '<=', 2),
  ];
  const counted: Record<Name, string> = {
    rawStream: 'XADD → XREADGROUP, XACK + XDEL',
    bullmq: 'jobs completed',
    ours: 'durable tells',
  };
  printDurableReport({
    oneWay: names.map((name) => ({
      name,
      label: contenders[name].label,
      what: counted[name],
      handledPerSecond: rate(name),
      acknowledgedPerSecond: median(acknowledged[name] ?? []),
      tally: tallies[name],
    })),
    cpuWholeCycle,
    cpuDuringLoad,
    commands,
    asks: {
      label: 'redis-actors durable',
      inflight: ASKS_IN_FLIGHT,
      perSecond: median(durableAsks),
      cpu: cpuDurableAsk,
    },
    latency: [
      {
        label: 'redis-actors, durable mailbox (bench-durable)',
        result: latency('durable'),
        commands: commandsPerAsk.of('durable'),
      },
      {
        label: 'redis-actors, pub/sub mailbox (bench-echo)',
        result: latency('pubSub'),
        commands: commandsPerAsk.of('pubSub'),
      },
    ],
    targets,
    durableStreams: oursStreams,
  });

  const output = {
    date: new Date().toISOString(),
    quick,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    plan,
    window: WINDOW,
    oursBuild,
    bullmq: { version: bullmqVersion, concurrency: bullmqConcurrency, adds: bullmqAdds },
    mismatches,
    oneWayMismatches,
    oneWay: Object.fromEntries(
      names.map((name) => [
        name,
        {
          handledPerSecond: { median: rate(name), runs: handled[name] ?? [] },
          acknowledgedPerSecond: {
            median: median(acknowledged[name] ?? []),
            runs: acknowledged[name] ?? [],
          },
        },
      ]),
    ),
    durableAsks: { inflight: ASKS_IN_FLIGHT, median: median(durableAsks), runs: durableAsks },
    latency: {
      median: { durable: latency('durable'), pubSub: latency('pubSub') },
      runs: latencyRuns,
      redisCommandsPerAsk: commandsPerAsk,
    },
    cpuPerMessage: {
      about:
        'CPU µs (user + system) per message of producer/requester + consumer/responder + Redis server. oneWayWholeCycle: from just before the load until the consumer handled every acknowledged message, one slice per round (quiet: other processes used at most 0.3 cores). oneWayDuringLoad and durableAsks: the measured interval in 250 ms slices, the quiet ones, the middle half by CPU per message, pooled (bench/cpu.ts).',
      oneWayWholeCycle: cpuWholeCycle,
      oneWayDuringLoad: cpuDuringLoad,
      durableAsks: cpuDurableAsk,
    },
    redisCommandsPerMessage: commands,
    delivered: tallies,
    bullmqFailedJobs,
    rawStreamLengthAfter: rawStreamLength,
    oursDropped,
    oursStreamsAfter: oursStreams,
    waitedForQuietMs: Math.round(waitedForQuietMs),
    targets,
  };
  fs.writeFileSync(
    path.join(benchDir, 'durable-results.json'),
    `${JSON.stringify(output, null, 2)}\n`,
  );
  log('results written to bench/durable-results.json');
  if (mismatches > 0) {
    log(`FAILED: ${mismatches} messages or replies did not match their requests`);
    process.exitCode = 1;
  }
  // Nothing fails in this run, so every contender should deliver each acknowledged message once.
  const miscounted = names.filter((name) => tallies[name].handled !== tallies[name].acknowledged);
  if (miscounted.length > 0) {
    log(`FAILED: handled is not acknowledged for ${miscounted.join(', ')} (see the WARNING)`);
    process.exitCode = 1;
  }
} finally {
  for (const name of names) {
    await contenders[name].requester.stop();
    await contenders[name].responder.stop();
  }
  probe.disconnect();
  await redis.stop();
  fs.rmSync(runDir, { recursive: true, force: true });
}

/**
 * The Redis Streams under `prefix` (a durable mailbox is one) and the entries
 * left in them once every message was handled: acknowledged entries that stay
 * would grow the stream without end.
 */
async function streamsUnder(prefix: string): Promise<{ keys: number; entries: number }> {
  let keys = 0;
  let entries = 0;
  let cursor = '0';
  do {
    const [next, found] = await probe.scan(cursor, 'MATCH', `${prefix}*`, 'TYPE', 'stream');
    for (const key of found) entries += await probe.xlen(key);
    keys += found.length;
    cursor = next;
  } while (cursor !== '0');
  return { keys, entries };
}
