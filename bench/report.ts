/** The bench's figures as one table on stdout: medians, CPU per message, targets. */
import { type CpuPerMessage, OTHER_CORES_LIMIT } from './cpu.js';

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

export interface Target {
  what: string;
  ratio: number;
  goal: string;
  met: boolean;
}

export function target(what: string, ratio: number, comparison: '<=' | '>=', goal: number): Target {
  const met = comparison === '<=' ? ratio <= goal : ratio >= goal;
  return { what, ratio: Number(ratio.toFixed(2)), goal: `${comparison} ${goal}`, met };
}

export interface Report {
  /** The contenders, in column order. */
  columns: { name: string; label: string; tells: boolean }[];
  inflight: readonly number[];
  latency: (name: string) => { p50Us: number; p99Us: number } | undefined;
  at: (inflight: number, name: string) => number;
  tellRate: (name: string) => number;
  cpuAsk: (inflight: number, name: string) => CpuPerMessage | undefined;
  cpuTell: (name: string) => CpuPerMessage | undefined;
  /** Ours over raw ioredis (plain), CPU per ask at 256 in flight and per tell. */
  cpuRatios: Record<'rawIoredis' | 'base', { askAt256: number; tell: number } | undefined>;
  /** Slices of the CPU rows at 256 in flight and of tells, and the quiet ones (the figures' own). */
  cpuQuiet: { slices: number; quiet: number; leastQuiet: number };
  pendingMemory: { bytes: number };
  large: Record<string, { ours: number; raw: number }>;
  spawn: { oursP50Ms: number; bareP50Ms: number; idleRssMb: number };
  /** The presence rows, as bench/presence.ts words them. */
  presence: string[];
  targets: Target[];
  subscribersDisconnected: number;
  connectionLosses: number;
}

export function printTable(data: Report): void {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const us = (cpu: CpuPerMessage | undefined) =>
    cpu === undefined ? '-' : `${cpu.totalUs.toFixed(2)} µs`;
  const split = (cpu: CpuPerMessage | undefined) =>
    cpu === undefined
      ? '-'
      : `${cpu.requesterUs.toFixed(1)}+${cpu.responderUs.toFixed(1)}+${cpu.redisUs.toFixed(1)}`;
  const names = data.columns.map((column) => column.name);
  const rows: string[][] = [['', ...data.columns.map((column) => column.label)]];
  const row = (label: string, cell: (name: string) => string) => {
    rows.push([label, ...names.map(cell)]);
  };
  row('sequential ask p50', (name) => `${(data.latency(name)?.p50Us ?? NaN).toFixed(0)} µs`);
  row('sequential ask p99', (name) => `${(data.latency(name)?.p99Us ?? NaN).toFixed(0)} µs`);
  for (const inflight of data.inflight) {
    row(`asks/s, ${inflight} in flight`, (name) => k(data.at(inflight, name)));
  }
  const tells = (name: string) => data.columns.find((column) => column.name === name)?.tells;
  row('tells/s (one-way)', (name) => (tells(name) === true ? k(data.tellRate(name)) : '-'));
  for (const inflight of data.inflight) {
    row(`CPU µs per ask (${inflight} in flight)`, (name) => us(data.cpuAsk(inflight, name)));
  }
  row('CPU µs per tell', (name) => us(data.cpuTell(name)));
  row('  split, ask at 256: req+resp+redis', (name) => split(data.cpuAsk(256, name)));
  row('  split, tell: req+resp+redis', (name) => split(data.cpuTell(name)));
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length))) ??
    [];
  const render = (cells: string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  const lines = rows.map(render);
  lines.push('');
  const vs = (what: string, ratios?: { askAt256: number; tell: number }) => {
    if (ratios === undefined) return;
    lines.push(
      `CPU per message (requester + responder + Redis) vs ${what}: ask at 256 in flight ${ratios.askAt256.toFixed(2)}x, tell ${ratios.tell.toFixed(2)}x (lower is cheaper)`,
    );
  };
  vs('raw ioredis', data.cpuRatios.rawIoredis);
  vs('the base checkout', data.cpuRatios.base);
  lines.push(
    `CPU figures from the ${data.cpuQuiet.quiet} of ${data.cpuQuiet.slices} slices of 250 ms (ask at 256, tell) in which other processes used at most ${OTHER_CORES_LIMIT} cores`,
  );
  if (data.cpuQuiet.leastQuiet < 0.5) {
    lines.push(
      'WARNING: other work on this machine took CPU during most of a CPU row; rerun on a quiet machine before comparing CPU figures',
    );
  }
  lines.push(
    `spawn to READY p50: ${data.spawn.oursP50Ms.toFixed(0)} ms (bare node + connect + exit: ${data.spawn.bareP50Ms.toFixed(0)} ms)`,
  );
  lines.push(`RSS of an idle actor process: ${data.spawn.idleRssMb.toFixed(1)} MB`);
  lines.push(...data.presence);
  lines.push(
    `memory for 10k pending asks: ${(data.pendingMemory.bytes / 1024 / 1024).toFixed(1)} MB`,
  );
  for (const [size, each] of Object.entries(data.large)) {
    lines.push(
      `${size} Float64Array ask: ${each.ours.toFixed(0)} MB/s (raw ioredis SET+GET: ${each.raw.toFixed(0)} MB/s)`,
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
