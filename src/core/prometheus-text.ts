/**
 * Process reports as Prometheus metrics, in the text exposition format
 * (version 0.0.4), written directly: a few counters, gauges and one
 * histogram need no client library, and the core stays free of a dependency
 * its users may not want. Several reports (the dashboard's, one per process
 * of the namespace) are summed series by series. Labels are actor and child
 * *names*, never addresses, so that the number of series stays bounded as
 * processes come and go.
 */
import type { ProcessReport } from './process-report.js';

/** The `Content-Type` of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values are cut to this many characters (they may be anyone's names). */
const MAX_LABEL_CHARS = 200;
/** The label of actors without a name. */
const UNNAMED = '(unnamed)';

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Summed values by series: the metric name with its labels, as rendered. */
  series: Map<string, number>;
}

function escapeLabel(value: string): string {
  const cut = value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
  return cut.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

class MetricSet {
  private readonly families = new Map<string, Family>();

  add(name: string, type: Family['type'], help: string, labels: Labels, value: number): void {
    this.addSeries(name, type, help, `${name}${labelText(labels)}`, value);
  }

  /** Adds to one series given as rendered (a histogram's `_bucket{le="…"}`, `_sum`, `_count`). */
  addSeries(name: string, type: Family['type'], help: string, series: string, value: number): void {
    let family = this.families.get(name);
    if (family === undefined) {
      family = { help, type, series: new Map() };
      this.families.set(name, family);
    }
    // A stranger's report may hold anything: what is not a finite count adds nothing.
    const added = Number.isFinite(value) ? value : 0;
    family.series.set(series, (family.series.get(series) ?? 0) + added);
  }

  /** Declares a family with no series yet, so that it is listed (with HELP and TYPE) anyway. */
  declare(name: string, type: Family['type'], help: string): void {
    if (!this.families.has(name)) this.families.set(name, { help, type, series: new Map() });
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [series, value] of family.series) lines.push(`${series} ${formatValue(value)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

const DROP_REASONS: Record<string, string> = {
  invalid: 'invalid',
  duplicate: 'duplicate',
  expired: 'expired',
  lateReply: 'late-reply',
  mailboxFull: 'mailbox-full',
  unknownType: 'unknown-type',
  shutdown: 'shutdown',
  deadLetter: 'dead-letter',
};

/**
 * The metrics of `reports`, summed, as Prometheus text. `processes` adds a
 * gauge of how many processes the figures cover (the dashboard's view).
 */
export function prometheusText(reports: readonly ProcessReport[], processes?: number): string {
  const set = new MetricSet();
  const p = 'redis_actors_';
  if (processes !== undefined)
    set.add(`${p}processes`, 'gauge', 'Processes whose figures are summed here.', {}, processes);
  set.declare(`${p}messages_sent_total`, 'counter', 'Envelopes sent, by kind.');
  set.declare(`${p}messages_received_total`, 'counter', 'Valid envelopes received, by kind.');
  set.declare(`${p}messages_dropped_total`, 'counter', 'Messages not processed, by reason.');
  set.declare(`${p}mailbox_depth`, 'gauge', 'Messages waiting in the mailbox, by actor name.');
  set.declare(`${p}child_restarts_total`, 'counter', 'Restarts of supervised children, by name.');
  const buckets = new Map<number, number>();
  let askSum = 0;
  let askCount = 0;
  for (const report of reports) {
    for (const [kind, count] of Object.entries(report.sentByKind))
      set.add(`${p}messages_sent_total`, 'counter', '', { kind }, count);
    for (const [kind, count] of Object.entries(report.receivedByKind))
      set.add(`${p}messages_received_total`, 'counter', '', { kind }, count);
    for (const [cause, count] of Object.entries(report.dropped) as [string, number][])
      set.add(
        `${p}messages_dropped_total`,
        'counter',
        '',
        { reason: DROP_REASONS[cause] ?? cause },
        count,
      );
    set.add(
      `${p}connection_losses_total`,
      'counter',
      'Times a connection to Redis was lost.',
      {},
      report.connectionLosses,
    );
    set.add(`${p}pending_asks`, 'gauge', 'Asks waiting for their reply.', {}, report.pendingAsks);
    const { bounds, counts } = report.askDurations;
    let cumulative = 0;
    bounds.forEach((bound, index) => {
      cumulative += counts[index] ?? 0;
      buckets.set(bound, (buckets.get(bound) ?? 0) + cumulative);
    });
    askSum += report.askDurations.sum;
    askCount += report.askDurations.count;
    for (const actor of report.actors) {
      const labels = { actor: actor.name ?? UNNAMED };
      set.add(`${p}mailbox_depth`, 'gauge', '', labels, actor.mailboxDepth);
      set.add(
        `${p}mailbox_capacity`,
        'gauge',
        'Most messages the mailbox holds, by actor name.',
        labels,
        actor.mailboxCapacity,
      );
      set.add(
        `${p}messages_handled_total`,
        'counter',
        'Messages handled, by actor name.',
        labels,
        actor.handled,
      );
      set.add(
        `${p}handler_failures_total`,
        'counter',
        'Handlers that threw, by actor name.',
        labels,
        actor.failed,
      );
    }
    for (const child of report.supervision?.children ?? [])
      set.add(`${p}child_restarts_total`, 'counter', '', { child: child.name }, child.restarts);
  }
  const name = `${p}ask_duration_seconds`;
  set.declare(name, 'histogram', 'Time from sending an ask to its reply, error or timeout.');
  for (const [bound, count] of [...buckets].sort((a, b) => a[0] - b[0]))
    set.addSeries(name, 'histogram', '', `${name}_bucket{le="${formatValue(bound)}"}`, count);
  set.addSeries(name, 'histogram', '', `${name}_bucket{le="+Inf"}`, askCount);
  set.addSeries(name, 'histogram', '', `${name}_sum`, askSum);
  set.addSeries(name, 'histogram', '', `${name}_count`, askCount);
  return set.render();
}
