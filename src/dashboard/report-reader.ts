/**
 * A process report as it arrives: from whoever answered `$report` at that
 * address, so from anyone. Read field by field into a report of bounded size
 * with sane values; what is not a report is refused (undefined) and the
 * process shown as not answering.
 */
import {
  ASK_DURATION_BUCKETS,
  type ActorStats,
  type DropCounts,
  type ProcessReport,
  type SupervisedChildReport,
  type SupervisionEventReport,
} from '../core/index.js';

/** Most actors, children and events taken from one report. */
export const REPORT_LIMITS = { actors: 2000, children: 500, events: 50, types: 64 } as const;
const MAX_STRING = 300;

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : undefined;
}

/** A finite, non-negative number; 0 otherwise. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function text(value: unknown, max = MAX_STRING): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

function list(value: unknown, max: number): unknown[] {
  return Array.isArray(value) ? value.slice(0, max) : [];
}

function kinds(value: unknown): ProcessReport['sentByKind'] {
  const from = fields(value) ?? {};
  return {
    tell: count(from.tell),
    ask: count(from.ask),
    reply: count(from.reply),
    error: count(from.error),
  };
}

function drops(value: unknown): DropCounts {
  const from = fields(value) ?? {};
  return {
    invalid: count(from.invalid),
    duplicate: count(from.duplicate),
    expired: count(from.expired),
    lateReply: count(from.lateReply),
    mailboxFull: count(from.mailboxFull),
    unknownType: count(from.unknownType),
    shutdown: count(from.shutdown),
    deadLetter: count(from.deadLetter),
  };
}

function byType(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const from = fields(value);
  if (from === undefined) return out;
  let taken = 0;
  for (const [type, n] of Object.entries(from)) {
    if (taken++ >= REPORT_LIMITS.types) break;
    if (type.length <= 200 && type !== '__proto__') out[type] = count(n);
  }
  return out;
}

function actor(value: unknown): ActorStats | undefined {
  const from = fields(value);
  const address = text(from?.address);
  if (from === undefined || address === undefined) return undefined;
  return {
    address,
    name: text(from.name, 200),
    mailboxDepth: count(from.mailboxDepth),
    mailboxCapacity: count(from.mailboxCapacity),
    processing: count(from.processing),
    handled: count(from.handled),
    failed: count(from.failed),
    sent: count(from.sent),
    handledByType: byType(from.handledByType),
    durable: from.durable === true,
    pool: from.pool === true,
  };
}

const CHILD_STATES = new Set(['starting', 'running', 'stopping', 'stopped']);
const EVENT_KINDS = new Set(['exited', 'restarted', 'escalated']);

function child(value: unknown): SupervisedChildReport | undefined {
  const from = fields(value);
  const name = text(from?.name, 200);
  if (from === undefined || name === undefined || !CHILD_STATES.has(String(from.state)))
    return undefined;
  return {
    name,
    state: from.state as SupervisedChildReport['state'],
    pid: typeof from.pid === 'number' ? count(from.pid) : undefined,
    address: text(from.address),
    restarts: count(from.restarts),
  };
}

function event(value: unknown): SupervisionEventReport | undefined {
  const from = fields(value);
  if (from === undefined || !EVENT_KINDS.has(String(from.kind))) return undefined;
  return {
    at: count(from.at),
    kind: from.kind as SupervisionEventReport['kind'],
    child: text(from.child, 200) ?? '',
    pid: typeof from.pid === 'number' ? count(from.pid) : undefined,
    code: typeof from.code === 'number' && Number.isInteger(from.code) ? from.code : null,
    signal: text(from.signal, 20) ?? null,
    detail: (typeof from.detail === 'string' ? from.detail : '').slice(0, 500),
  };
}

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

function histogram(value: unknown): ProcessReport['askDurations'] {
  const from = fields(value);
  const bounds = Array.isArray(from?.bounds) ? from.bounds : [];
  const counts = Array.isArray(from?.counts) ? from.counts : [];
  // Only the buckets this version uses can be summed with the others.
  const same =
    bounds.length === ASK_DURATION_BUCKETS.length &&
    bounds.every((bound, index) => bound === ASK_DURATION_BUCKETS[index]) &&
    counts.length === bounds.length + 1;
  if (!same) return { bounds: [...ASK_DURATION_BUCKETS], counts: [], sum: 0, count: 0 };
  return {
    bounds: [...ASK_DURATION_BUCKETS],
    counts: counts.map(count),
    sum: count(from?.sum),
    count: count(from?.count),
  };
}

/** The report of `system` in `value`, or undefined when it is not one (or of another process). */
export function readReport(value: unknown, system: string): ProcessReport | undefined {
  const from = fields(value);
  if (from === undefined || from.system !== system) return undefined;
  const memory = fields(from.memory) ?? {};
  const supervision = fields(from.supervision);
  return {
    system,
    namespace: text(from.namespace, 200) ?? '',
    host: text(from.host, 255) ?? '?',
    pid: count(from.pid),
    startedAt: count(from.startedAt),
    uptimeMs: count(from.uptimeMs),
    memory: { rss: count(memory.rss), heapUsed: count(memory.heapUsed) },
    connected: from.connected === true,
    subscribed: from.subscribed === true,
    connectionLosses: count(from.connectionLosses),
    pendingAsks: count(from.pendingAsks),
    sentByKind: kinds(from.sentByKind),
    receivedByKind: kinds(from.receivedByKind),
    dropped: drops(from.dropped),
    askDurations: histogram(from.askDurations),
    actors: list(from.actors, REPORT_LIMITS.actors).map(actor).filter(defined),
    supervisor: text(from.supervisor),
    supervision:
      supervision === undefined
        ? undefined
        : {
            children: list(supervision.children, REPORT_LIMITS.children).map(child).filter(defined),
            events: list(supervision.events, REPORT_LIMITS.events).map(event).filter(defined),
          },
  };
}
