/**
 * What a process says of itself to whoever asks `$report` of its process
 * address (the dashboard does, once a second): its counters, its actors, and,
 * when it supervises children, their state and its recent restarts. Also the
 * source of `system.metrics()`, so that a process's own metrics and the
 * dashboard's, summed over the namespace, are the same figures.
 */
import os from 'node:os';
import type { EnvelopeKind } from '../wire/index.js';
import type { HistogramSnapshot } from './ask-durations.js';
import type { ActorStats, DropCounts, SystemStats } from './stats.js';

/** A supervised child, as its supervisor reports it. */
export interface SupervisedChildReport {
  name: string;
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  pid: number | undefined;
  address: string | undefined;
  restarts: number;
}

/** A restart, an exit or an escalation of a supervisor. */
export interface SupervisionEventReport {
  at: number;
  kind: 'exited' | 'restarted' | 'escalated';
  /** The child's name (empty for an escalation). */
  child: string;
  pid: number | undefined;
  code: number | null;
  signal: string | null;
  detail: string;
}

/** What a supervisor adds to its process's report. */
export interface SupervisionReport {
  children: SupervisedChildReport[];
  events: SupervisionEventReport[];
}

export interface ProcessReport {
  system: string;
  namespace: string;
  host: string;
  pid: number;
  startedAt: number;
  uptimeMs: number;
  memory: { rss: number; heapUsed: number };
  connected: boolean;
  subscribed: boolean;
  connectionLosses: number;
  pendingAsks: number;
  sentByKind: Record<EnvelopeKind, number>;
  receivedByKind: Record<EnvelopeKind, number>;
  dropped: DropCounts;
  askDurations: HistogramSnapshot;
  actors: ActorStats[];
  /** The process address of the supervisor that started this process, if one did. */
  supervisor: string | undefined;
  /** When this process supervises children. */
  supervision: SupervisionReport | undefined;
}

/** What other parts of a process (its supervisors, runActor) add to its report. */
export class ReportSources {
  /** The supervisor that started this process. */
  supervisor: string | undefined;
  private readonly supervisors = new Set<() => SupervisionReport>();

  /** Adds a supervisor's part; returns what removes it. */
  addSupervision(source: () => SupervisionReport): () => void {
    this.supervisors.add(source);
    return () => this.supervisors.delete(source);
  }

  supervision(): SupervisionReport | undefined {
    if (this.supervisors.size === 0) return undefined;
    const merged: SupervisionReport = { children: [], events: [] };
    for (const source of this.supervisors) {
      const part = source();
      merged.children.push(...part.children);
      merged.events.push(...part.events);
    }
    merged.events.sort((a, b) => a.at - b.at);
    return merged;
  }
}

export interface ReportInputs {
  stats: SystemStats;
  startedAt: number;
  sentByKind: Record<EnvelopeKind, number>;
  receivedByKind: Record<EnvelopeKind, number>;
  askDurations: HistogramSnapshot;
  sources: ReportSources;
}

export function processReport(inputs: ReportInputs): ProcessReport {
  const { stats, sources } = inputs;
  const memory = process.memoryUsage();
  return {
    system: stats.address,
    namespace: stats.namespace,
    host: os.hostname(),
    pid: process.pid,
    startedAt: inputs.startedAt,
    uptimeMs: Date.now() - inputs.startedAt,
    memory: { rss: memory.rss, heapUsed: memory.heapUsed },
    connected: stats.connected,
    subscribed: stats.subscribed,
    connectionLosses: stats.connectionLosses,
    pendingAsks: stats.pendingAsks,
    sentByKind: { ...inputs.sentByKind },
    receivedByKind: { ...inputs.receivedByKind },
    dropped: stats.dropped,
    askDurations: inputs.askDurations,
    actors: stats.actors,
    supervisor: sources.supervisor,
    supervision: sources.supervision(),
  };
}
