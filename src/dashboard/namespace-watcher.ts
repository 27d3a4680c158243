/**
 * The dashboard's view of a namespace, refreshed once a round: the live actors
 * from the registry, each process's `$report` (asked of all at once), the
 * rates computed from their counters, the supervisors' events, the dead
 * letters of durable names, and the topics. Everything it keeps is capped, so
 * that its memory does not grow with the namespace's history or with what
 * strangers write.
 */
import {
  type ActorStats,
  type ActorSystem,
  type ProcessReport,
  watchTopics,
} from '../core/index.js';
import type { ActorInfo } from '../registry/index.js';
import { processOf } from '../registry/index.js';
import { type Unsubscribe, redactUrl } from '../transport/index.js';
import { REPORT_TYPE } from '../wire/index.js';
import { readReport } from './report-reader.js';
import { CounterRates, TypeRateHistory } from './rate-history.js';
import {
  type ActorView,
  type ChildView,
  DASHBOARD_LIMITS,
  type DashboardSnapshot,
  type ProcessView,
  type SupervisionEventView,
} from './snapshot.js';
import { TopicBoard } from './topic-board.js';

export interface NamespaceWatcherOptions {
  /** How often to refresh. @default 1000 */
  intervalMs?: number;
  /** The Redis URL shown on the page (its password is removed). */
  url: string;
}

/** Durable names whose dead letters are counted each round. */
const MAX_DEAD_LETTER_NAMES = 50;

export class NamespaceWatcher {
  private readonly intervalMs: number;
  private readonly rates = new CounterRates();
  private readonly typeRates = new TypeRateHistory();
  private readonly topics = new TopicBoard();
  private readonly events = new Map<string, SupervisionEventView>();
  private reports: ProcessReport[] = [];
  private latest: DashboardSnapshot;
  private lastRoundAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopTopics: Unsubscribe | undefined;
  private stopped = false;
  private readonly listeners = new Set<(snapshot: DashboardSnapshot) => void>();

  constructor(
    private readonly system: ActorSystem,
    options: NamespaceWatcherOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.latest = {
      at: Date.now(),
      namespace: system.namespace,
      redis: redactUrl(options.url),
      traffic: 'off',
      processes: [],
      actors: [],
      actorsOmitted: 0,
      children: [],
      events: [],
      rateTimes: [],
      rates: [],
      topics: [],
      pi: undefined,
    };
  }

  /** Subscribes the topics and runs the first round. */
  async start(): Promise<void> {
    this.stopTopics = await watchTopics(this.system, (topic, payload) => {
      this.topics.saw(topic, payload);
    });
    await this.round();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.stopTopics?.();
  }

  /** The latest snapshot. */
  snapshot(): DashboardSnapshot {
    return this.latest;
  }

  /** The latest reports of the namespace's processes (for `/metrics`). */
  processReports(): readonly ProcessReport[] {
    return this.reports;
  }

  /** Calls `listener` after each round; returns what removes it. */
  onSnapshot(listener: (snapshot: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async round(): Promise<void> {
    try {
      this.latest = await this.look();
      for (const listener of this.listeners) listener(this.latest);
    } catch (error) {
      this.system.options.logger.warn(`dashboard: refresh failed: ${String(error)}`);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.round(), this.intervalMs);
  }

  private async look(): Promise<DashboardSnapshot> {
    const actors = await this.system.registry.list();
    const processAddresses = [...new Set(actors.map((actor) => processOf(actor.address)))].slice(
      0,
      DASHBOARD_LIMITS.processes,
    );
    const actorsOf = new Map<string, ActorInfo[]>();
    for (const actor of actors) {
      const owner = processOf(actor.address);
      const group = actorsOf.get(owner);
      if (group === undefined) actorsOf.set(owner, [actor]);
      else group.push(actor);
    }
    const answers = await Promise.all(processAddresses.map((address) => this.reportOf(address)));
    const reports = answers.filter((report): report is ProcessReport => report !== undefined);
    const now = Date.now();
    const seconds = this.lastRoundAt === 0 ? 0 : (now - this.lastRoundAt) / 1000;
    this.lastRoundAt = now;
    this.rates.begin();
    this.reports = reports;
    const byProcess = new Map(reports.map((report) => [report.system, report]));
    const actorOwner = new Map<string, string>();
    for (const report of reports)
      for (const actor of report.actors) actorOwner.set(actor.address, report.system);
    const typeRates = new Map<string, number>();
    for (const report of reports)
      for (const actor of report.actors)
        for (const [type, handled] of Object.entries(actor.handledByType)) {
          const rate = this.rates.rate(`type|${actor.address}|${type}`, handled, seconds);
          typeRates.set(type, (typeRates.get(type) ?? 0) + rate);
        }
    this.typeRates.add(now, typeRates);
    for (const report of reports) this.recordEvents(report);
    const deadLetters = await this.deadLetterCounts(actors, reports);
    const subscribers = await this.topicSubscribers();
    const actorViews = this.actorViews(actors, byProcess, deadLetters, seconds);
    return {
      ...this.latest,
      at: now,
      processes: processAddresses.map((address) =>
        this.processView(
          address,
          actorsOf.get(address) ?? [],
          byProcess.get(address),
          actorOwner,
          seconds,
        ),
      ),
      actors: actorViews.slice(0, DASHBOARD_LIMITS.actors),
      actorsOmitted: Math.max(0, actorViews.length - DASHBOARD_LIMITS.actors),
      children: this.childViews(reports),
      events: [...this.events.values()].sort((a, b) => a.at - b.at),
      rateTimes: this.typeRates.rateTimes(),
      rates: this.typeRates.busiest(),
      topics: this.topics.views(subscribers),
      pi: this.topics.pi(),
    };
  }

  private async reportOf(address: string): Promise<ProcessReport | undefined> {
    try {
      const answer = await this.system.ask(address, REPORT_TYPE, undefined, {
        timeoutMs: Math.max(200, this.intervalMs - 100),
      });
      return readReport(answer, address);
    } catch {
      // Not answering (busy, gone, or an older version): shown as such.
      return undefined;
    }
  }

  private processView(
    address: string,
    own: readonly ActorInfo[],
    report: ProcessReport | undefined,
    actorOwner: ReadonlyMap<string, string>,
    seconds: number,
  ): ProcessView {
    const first = own[0];
    const sent = report === undefined ? 0 : sum(Object.values(report.sentByKind));
    const received = report === undefined ? 0 : sum(Object.values(report.receivedByKind));
    const supervisor = report?.supervisor;
    return {
      address,
      host: first?.host ?? report?.host ?? '?',
      pid: first?.pid ?? report?.pid ?? 0,
      startedAt: Math.min(...own.map((actor) => actor.startedAt)),
      answered: report !== undefined,
      supervisor:
        supervisor === undefined
          ? undefined
          : (actorOwner.get(supervisor) ?? processOf(supervisor)),
      connected: report?.connected ?? false,
      subscribed: report?.subscribed ?? false,
      rssBytes: report?.memory.rss ?? 0,
      pendingAsks: report?.pendingAsks ?? 0,
      sentPerSec: this.rates.rate(`sent|${address}`, sent, seconds),
      receivedPerSec: this.rates.rate(`received|${address}`, received, seconds),
      dropped: report === undefined ? 0 : sum(Object.values(report.dropped)),
    };
  }

  private actorViews(
    actors: readonly ActorInfo[],
    byProcess: ReadonlyMap<string, ProcessReport>,
    deadLetters: ReadonlyMap<string, number>,
    seconds: number,
  ): ActorView[] {
    const statsOf = new Map<string, ActorStats>();
    for (const report of byProcess.values())
      for (const actor of report.actors) statsOf.set(actor.address, actor);
    const views = actors.map((info): ActorView => {
      const system = processOf(info.address);
      const stats = byProcess.has(system) ? statsOf.get(info.address) : undefined;
      const handled = stats?.handled ?? 0;
      return {
        address: info.address,
        name: info.name,
        system,
        host: info.host,
        pid: info.pid,
        startedAt: info.startedAt,
        pool: info.pool === true,
        durable: stats?.durable ?? false,
        mailboxDepth: stats?.mailboxDepth ?? 0,
        mailboxCapacity: stats?.mailboxCapacity ?? 0,
        handled,
        failed: stats?.failed ?? 0,
        inPerSec: this.rates.rate(`in|${info.address}`, handled, seconds),
        outPerSec: this.rates.rate(`out|${info.address}`, stats?.sent ?? 0, seconds),
        deadLetters: info.name === undefined ? undefined : deadLetters.get(info.name),
      };
    });
    // Named actors first: they are the ones people look for.
    return views.sort((a, b) => Number(a.name === undefined) - Number(b.name === undefined));
  }

  private childViews(reports: readonly ProcessReport[]): ChildView[] {
    const children: ChildView[] = [];
    for (const report of reports)
      for (const child of report.supervision?.children ?? [])
        if (children.length < DASHBOARD_LIMITS.children)
          children.push({ supervisor: report.system, ...child });
    return children;
  }

  private recordEvents(report: ProcessReport): void {
    for (const event of report.supervision?.events ?? []) {
      const key = `${report.system}|${event.at}|${event.kind}|${event.child}|${event.pid ?? ''}`;
      if (this.events.has(key)) continue;
      this.events.set(key, { ...event, supervisor: report.system });
      if (this.events.size > DASHBOARD_LIMITS.events) {
        const oldest = [...this.events].sort((a, b) => a[1].at - b[1].at)[0];
        if (oldest !== undefined) this.events.delete(oldest[0]);
      }
    }
  }

  private async deadLetterCounts(
    actors: readonly ActorInfo[],
    reports: readonly ProcessReport[],
  ): Promise<Map<string, number>> {
    const durable = new Set<string>();
    for (const report of reports)
      for (const actor of report.actors)
        if (actor.durable && actor.name !== undefined) durable.add(actor.name);
    const names = [...durable].filter((name) => actors.some((a) => a.name === name));
    const counts = await Promise.all(
      names.slice(0, MAX_DEAD_LETTER_NAMES).map(async (name): Promise<[string, number]> => {
        try {
          return [name, await this.system.deadLetters(name).count()];
        } catch {
          return [name, 0];
        }
      }),
    );
    return new Map(counts);
  }

  private async topicSubscribers(): Promise<Map<string, number>> {
    const names = this.topics.shownNames();
    if (names.length === 0) return new Map();
    try {
      const reply = await this.system.command([
        'PUBSUB',
        'NUMSUB',
        ...names.map((name) => `${this.system.namespace}:topic:${name}`),
      ]);
      const counts = new Map<string, number>();
      if (Array.isArray(reply))
        for (let i = 0; i + 1 < reply.length; i += 2)
          counts.set(names[i / 2] ?? '', Number(reply[i + 1]));
      return counts;
    } catch {
      // A Redis Cluster (sharded channels) or an ACL without PUBSUB: not shown.
      return new Map();
    }
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
