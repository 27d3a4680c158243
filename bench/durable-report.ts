/** The tables and warnings of bench/durable.ts, as markdown on stdout. */
import type { CpuFigures } from './cpu.js';
import type { CommandsPerMessage, OneWayTally } from './durable-rows.js';
import type { Target } from './report.js';

export interface Latency {
  p50Us: number;
  p99Us: number;
  mismatches: number;
}

export interface DurableReport {
  /** One row per contender of the one-way rows. */
  oneWay: {
    name: string;
    label: string;
    /** What is counted: "durable tells", "jobs completed"… */
    what: string;
    handledPerSecond: number;
    acknowledgedPerSecond: number;
    tally: OneWayTally;
  }[];
  cpuWholeCycle: CpuFigures;
  cpuDuringLoad: CpuFigures;
  commands: CommandsPerMessage;
  asks: { label: string; inflight: number; perSecond: number; cpu: CpuFigures };
  latency: {
    label: string;
    result: Latency | undefined;
    /** Redis commands per sequential ask, by command (CommandsPerMessage.of). */
    commands: [command: string, perMessage: number][];
  }[];
  targets: Target[];
  /**
   * Redis Streams under the durable contender's namespace (none: not a durable
   * mailbox) and the entries left in them once every message was handled.
   */
  durableStreams: { keys: number; entries: number };
}

/** A markdown table, columns padded to their widest cell; right-aligned but the first. */
export function markdownTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(3, ...all.map((cells) => (cells[column] ?? '').length)),
  );
  const pad = (cell: string, column: number) =>
    column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0);
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = widths.map((width, column) =>
    column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`,
  );
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
const total = (figures: CpuFigures, name: string) =>
  figures.figure(name)?.totalUs.toFixed(2) ?? '-';
const split = (figures: CpuFigures, name: string) => {
  const cpu = figures.figure(name);
  return cpu === undefined
    ? '-'
    : `${cpu.requesterUs.toFixed(1)} + ${cpu.responderUs.toFixed(1)} + ${cpu.redisUs.toFixed(1)}`;
};
const quiet = (figures: CpuFigures, name: string) => {
  const cpu = figures.figure(name);
  return cpu === undefined ? '-' : `${cpu.quietSlices}/${cpu.slices}`;
};

const commandList = (commands: [string, number][]) =>
  commands.map(([command, perMessage]) => `${command} ${perMessage.toFixed(3)}`).join(', ');

export function printDurableReport(report: DurableReport): void {
  const { cpuWholeCycle: cycle, cpuDuringLoad: load } = report;
  const lines = [
    markdownTable(
      [
        'one-way, 2,000 unacknowledged',
        'counted',
        'handled/s',
        'acked/s',
        'CPU µs per message',
        'producer + consumer + Redis',
        'quiet rounds',
        'CPU µs during the load',
        'quiet slices',
      ],
      report.oneWay.map((row) => [
        row.label,
        row.what,
        k(row.handledPerSecond),
        k(row.acknowledgedPerSecond),
        total(cycle, row.name),
        split(cycle, row.name),
        quiet(cycle, row.name),
        total(load, row.name),
        quiet(load, row.name),
      ]),
    ),
    '',
    'handled/s: by the consumer, median of the rounds; acked/s: sends acknowledged to the producer',
    'over the whole load. CPU µs per message: of the three processes from the start of the load',
    'until the consumer had handled every acknowledged message, over those messages; during the',
    'load: cpu.ts slices of the measured interval (more than the former when the producer runs',
    'ahead of the consumer: its CPU for messages handled later counts against fewer).',
    '',
    ...report.oneWay.map(
      ({ name, label }) =>
        `Redis commands per message, ${label}: ${commandList(report.commands.of(name))}`,
    ),
    '',
    markdownTable(
      ['asks', 'per second', 'CPU µs per ask', 'requester + responder + Redis', 'quiet slices'],
      [
        [
          `${report.asks.label}, ${report.asks.inflight} in flight`,
          k(report.asks.perSecond),
          total(report.asks.cpu, 'ours'),
          split(report.asks.cpu, 'ours'),
          quiet(report.asks.cpu, 'ours'),
        ],
      ],
    ),
    '',
    markdownTable(
      ['sequential ask', 'p50 µs', 'p99 µs', 'Redis commands per ask'],
      report.latency.map(({ label, result, commands }) => [
        label,
        (result?.p50Us ?? NaN).toFixed(0),
        (result?.p99Us ?? NaN).toFixed(0),
        commandList(commands),
      ]),
    ),
    '',
    ...report.targets.map(
      (each) => `${each.met ? 'met ' : 'NOT '} ${each.what}: ${each.ratio} (goal ${each.goal})`,
    ),
  ];
  for (const { label, tally } of report.oneWay) {
    const { acknowledged, handled } = tally;
    if (handled === acknowledged) continue;
    const how = handled < acknowledged ? 'lost' : 'handled twice';
    lines.push(
      `WARNING: ${label}: ${acknowledged} messages acknowledged to the producer, ${handled} handled (${how}: ${Math.abs(acknowledged - handled)})`,
    );
  }
  if (report.durableStreams.keys === 0) {
    lines.push(
      'NOTE: no Redis Stream under the durable namespace: this build (dist/) has no durable mailbox, the "durable" rows measured a pub/sub one',
    );
  } else if (report.durableStreams.entries > 0) {
    lines.push(
      `NOTE: ${report.durableStreams.entries} entries left in the durable mailbox's stream after every message was handled`,
    );
  }
  const figures = [...cycle.figures(), ...load.figures(), ...report.asks.cpu.figures()];
  if (figures.some((figure) => figure.quietSlices / figure.slices < 0.5)) {
    lines.push(
      'WARNING: other work on this machine took CPU during most of a CPU row; rerun on a quiet machine before comparing CPU figures',
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
