/**
 * `npm run bench:cluster [-- --quick]`: redis-actors on a local Redis Cluster
 * (3 masters + 3 replicas, startLocalCluster) next to one redis-server, in the
 * same run and the same way as `npm run bench` measures it: asks/s at 256 in
 * flight and tells/s (medians of rounds, the two interleaved), the CPU per
 * message of requester + responder + every Redis server, and the failover
 * time after kill -9 of the master that serves the asked actor's channel.
 * On a 2-core machine a cluster cannot show scaling: six servers share two
 * cores with the contenders. Writes bench/cluster-results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ActorSystem, startLocalCluster, startRedisServer } from 'redis-actors';
import {
  type CpuSample,
  CpuFigures,
  cpuRun,
  procCpuSampler,
  redisServerPid,
  waitForQuiet,
  watchCpu,
} from './cpu.js';
import { median, target } from './report.js';
import { Role } from './rpc.js';
import { slotOf } from '../src/transport/cluster/slot.js';
import { freePort } from '../src/broker/local-cluster.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const plan = values.quick
  ? { rounds: 1, warmupMs: 300, rowMs: 1500, shapeWarmupMs: 800, quietWaitMs: 5000 }
  : { rounds: 3, warmupMs: 500, rowMs: 2000, shapeWarmupMs: 1500, quietWaitMs: 20_000 };
const benchDir = path.dirname(new URL(import.meta.url).pathname);
const log = (line: string) => process.stderr.write(`${line}\n`);

const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-bench-cluster-'));
// Over TCP like the cluster's nodes, so that the comparison is of the cluster, not the socket.
const single = await startRedisServer({ dir: path.join(runDir, 'single'), port: await freePort() });
const singleUrl = single.tcpUrl ?? single.url;
const cluster = await startLocalCluster({ dir: path.join(runDir, 'cluster') });
const namespace = `benchc${process.pid}`;

/** CPU of several servers as one sampler (every node of the cluster). */
function summed(samplers: (() => CpuSample)[]): () => CpuSample {
  return () => {
    const samples = samplers.map((sample) => sample());
    return {
      atNs: Number(process.hrtime.bigint()),
      userUs: samples.reduce((sum, each) => sum + each.userUs, 0),
      systemUs: samples.reduce((sum, each) => sum + each.systemUs, 0),
      count: 0,
    };
  };
}

const contender = (tag: string, url: string, ns: string) => ({
  responder: Role.start(`${tag}-responder`, path.join(benchDir, 'roles', 'ours.ts'), [
    'responder',
    url,
    ns,
  ]),
  requester: Role.start(`${tag}-requester`, path.join(benchDir, 'roles', 'ours.ts'), [
    'requester',
    url,
    ns,
  ]),
});
const contenders = {
  single: {
    ...contender('single', singleUrl, `${namespace}s`),
    redisCpu: procCpuSampler(await redisServerPid(single.socketPath, single.pid)),
  },
  cluster: {
    ...contender('cluster', cluster.url, `${namespace}c`),
    redisCpu: summed(cluster.nodes.map((node) => procCpuSampler(node.server.pid))),
  },
};
type Name = keyof typeof contenders;
const names = Object.keys(contenders) as Name[];
log(
  `bench:cluster: ${values.quick ? 'quick' : 'full'} run, single node ${singleUrl}, cluster ${cluster.url}`,
);

try {
  for (const name of names) await contenders[name].responder.call('noop');
  for (const name of names) await contenders[name].requester.call('noop');
  log('warming up…');
  for (const name of names) {
    const { requester } = contenders[name];
    await requester.call('throughput', {
      inflight: 256,
      durationMs: plan.shapeWarmupMs,
      warmupMs: 0,
    });
    await requester.call('tells', { window: 2000, durationMs: plan.shapeWarmupMs });
  }
  const asks: Partial<Record<Name, number[]>> = {};
  const tells: Partial<Record<Name, number[]>> = {};
  const cpuAsks = new CpuFigures();
  const cpuTells = new CpuFigures();
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const each = contenders[name];
      log(`round ${round + 1}: ${name}, asks at 256 in flight, then tells`);
      await waitForQuiet(plan.quietWaitMs);
      const begun = performance.now();
      const measuring = each.requester.call<{ perSecond: number; mismatches: number }>(
        'throughput',
        {
          inflight: 256,
          durationMs: plan.rowMs,
          warmupMs: plan.warmupMs,
          tailMs: 100,
        },
      );
      const askSnapshots = await watchCpu(each, each.redisCpu, begun + plan.warmupMs, plan.rowMs);
      const result = await measuring;
      if (result.mismatches > 0)
        throw new Error(`${name}: ${result.mismatches} replies did not match`);
      (asks[name] ??= []).push(result.perSecond);
      cpuAsks.add(name, cpuRun(askSnapshots, 'requester'));
      await waitForQuiet(plan.quietWaitMs);
      const sending = each.requester.call('tells', {
        window: 2000,
        durationMs: plan.warmupMs + plan.rowMs + 300,
      });
      const tellSnapshots = await watchCpu(
        each,
        each.redisCpu,
        performance.now() + plan.warmupMs,
        plan.rowMs,
      );
      const first = tellSnapshots[0]?.responder;
      const last = tellSnapshots.at(-1)?.responder;
      if (first !== undefined && last !== undefined) {
        (tells[name] ??= []).push(((last.count - first.count) * 1e9) / (last.atNs - first.atNs));
      }
      cpuTells.add(name, cpuRun(tellSnapshots, 'responder'));
      await sending;
    }
  }

  log('failover: kill -9 of the master serving bench-echo…');
  const failover = await measureFailover(`${namespace}c`);

  const askRate = (name: Name) => median(asks[name] ?? []);
  const tellRate = (name: Name) => median(tells[name] ?? []);
  const cpu = (figures: CpuFigures, name: Name) => figures.figure(name)?.totalUs ?? NaN;
  const rows = names.map((name) => ({
    name,
    asksPerSecond: Math.round(askRate(name)),
    tellsPerSecond: Math.round(tellRate(name)),
    cpuUsPerAsk: Number(cpu(cpuAsks, name).toFixed(2)),
    cpuUsPerTell: Number(cpu(cpuTells, name).toFixed(2)),
  }));
  const targets = [
    target(
      'asks/s at 256 in flight, cluster vs single node',
      askRate('cluster') / askRate('single'),
      '>=',
      0.7,
    ),
    target('tells/s, cluster vs single node', tellRate('cluster') / tellRate('single'), '>=', 0.7),
  ];
  console.log('\n| Redis | asks/s at 256 | tells/s | CPU µs per ask | CPU µs per tell |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(
      `| ${row.name === 'single' ? 'one redis-server' : '3 masters + 3 replicas'} | ${row.asksPerSecond} | ${row.tellsPerSecond} | ${row.cpuUsPerAsk} | ${row.cpuUsPerTell} |`,
    );
  }
  console.log('');
  for (const each of targets) {
    console.log(`${each.met ? 'met ' : 'NOT '} ${each.what}: ${each.ratio} (goal ${each.goal})`);
  }
  console.log(
    `failover: replica promoted ${failover.promotedMs} ms after kill -9; the actor answered again ${failover.answeredAfterPromotionMs} ms after the promotion`,
  );
  fs.writeFileSync(
    path.join(benchDir, 'cluster-results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), plan, rows, targets, failover, asks, tells, cpuAsks, cpuTells }, null, 2)}\n`,
  );
  log('results written to bench/cluster-results.json');
} finally {
  for (const name of names) {
    await contenders[name].requester.stop();
    await contenders[name].responder.stop();
  }
  await single.stop();
  await cluster.stop();
  fs.rmSync(runDir, { recursive: true, force: true });
}

/** kill -9 of the master of bench-echo's channel; when a replica took over, when it answered again. */
async function measureFailover(
  ns: string,
): Promise<{ promotedMs: number; answeredAfterPromotionMs: number }> {
  const slot = slotOf(`${ns}:bench-echo`);
  const ownerPort = async (): Promise<number | undefined> => {
    for (const node of cluster.nodes) {
      const probe = new Redis({
        port: node.port,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: true,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const ranges = (await probe.call('CLUSTER', 'SLOTS')) as [
          number,
          number,
          [string, number],
        ][];
        return ranges.find(([start, end]) => start <= slot && slot <= end)?.[2][1];
      } catch {
        // That node is the one killed: ask another.
      } finally {
        probe.disconnect();
      }
    }
    return undefined;
  };
  const victimPort = await ownerPort();
  const victim = cluster.nodes.find((node) => node.port === victimPort);
  if (victim === undefined) throw new Error('no master serves bench-echo');
  const client = await ActorSystem.start({
    url: cluster.url,
    namespace: ns,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  try {
    await client.ask('bench-echo', 'echo', 'before');
    const killedAt = performance.now();
    process.kill(victim.server.pid, 'SIGKILL');
    await victim.server.exited;
    const promoted: { at?: number } = {};
    const promotion = (async () => {
      for (;;) {
        const port = await ownerPort();
        if (port !== undefined && port !== victimPort) return (promoted.at = performance.now());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    for (;;) {
      try {
        await client.ask('bench-echo', 'echo', 'after', { timeoutMs: 200 });
        if (promoted.at !== undefined) break;
      } catch {
        // Not yet.
      }
    }
    const answeredAt = performance.now();
    await promotion;
    return {
      promotedMs: Math.round((promoted.at ?? answeredAt) - killedAt),
      answeredAfterPromotionMs: Math.round(answeredAt - (promoted.at ?? answeredAt)),
    };
  } finally {
    await client.stop();
  }
}
