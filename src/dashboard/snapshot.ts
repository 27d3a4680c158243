/**
 * What the dashboard server sends its page, once a second, as one JSON
 * document per server-sent event (`GET /events`, event `snapshot`; also
 * `GET /snapshot.json`). Everything in it came from Redis, so from anyone:
 * the page shows it as text (never as HTML) and every list is capped here,
 * so that neither the page nor the server grows with what strangers write.
 */
import type { SupervisionEventReport } from '../core/index.js';

/** One process (actor system) of the namespace. */
export interface ProcessView {
  /** Its process address, `<hostname>-<pid>`. */
  address: string;
  host: string;
  pid: number;
  /** When its first actor started, ms since the epoch. */
  startedAt: number;
  /** It answered this round's stats ask; when false the figures are the last known, or zero. */
  answered: boolean;
  /** The supervisor's process address, when a supervisor started it. */
  supervisor: string | undefined;
  connected: boolean;
  subscribed: boolean;
  rssBytes: number;
  pendingAsks: number;
  /** Envelopes sent and received per second, over the last round. */
  sentPerSec: number;
  receivedPerSec: number;
  /** Messages dropped since start, all causes. */
  dropped: number;
}

/** One live actor. */
export interface ActorView {
  address: string;
  name: string | undefined;
  /** Process address of the system hosting it. */
  system: string;
  host: string;
  pid: number;
  startedAt: number;
  /** A member of a durable pool (its name is shared). */
  pool: boolean;
  durable: boolean;
  mailboxDepth: number;
  mailboxCapacity: number;
  handled: number;
  failed: number;
  /** Messages handled per second, and sent from its handlers per second, over the last round. */
  inPerSec: number;
  outPerSec: number;
  /** Entries in the name's dead letters, for durable mailboxes; undefined otherwise. */
  deadLetters: number | undefined;
}

/** A supervisor → child edge. */
export interface ChildView {
  /** The supervisor's process address. */
  supervisor: string;
  name: string;
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  pid: number | undefined;
  address: string | undefined;
  restarts: number;
}

/** A restart, an exit or an escalation a supervisor reported, with the supervisor's process address. */
export interface SupervisionEventView extends SupervisionEventReport {
  supervisor: string;
}

/** Messages per second of one type (`tell:samples`, `ask:status`, `reply`, …), oldest first. */
export interface RateSeries {
  type: string;
  /** One value per point of {@link DashboardSnapshot.rateTimes}. */
  perSec: number[];
}

/** A topic seen in the namespace (`<ns>:topic:<name>`). */
export interface TopicView {
  name: string;
  /** Subscribers now (PUBSUB NUMSUB), when known. */
  subscribers: number | undefined;
  /** Payloads seen since the dashboard started. */
  messages: number;
  /** The last few payloads, newest last, as text cut to 200 characters. */
  recent: { at: number; text: string }[];
  /** `name` fields of recent payloads (e.g. chat nicknames), most recent last, at most 20. */
  speakers: string[];
}

/** One point of the pi computation: the estimate and its standard error. */
export interface PiPoint {
  at: number;
  samples: number;
  estimate: number;
  standardError: number;
}

export interface DashboardSnapshot {
  at: number;
  namespace: string;
  /** The Redis URL, password removed. */
  redis: string;
  /** How the traffic view watches: `monitor` (Redis MONITOR), `psubscribe` (fallback), or `off`. */
  traffic: 'monitor' | 'psubscribe' | 'off';
  processes: ProcessView[];
  /** At most {@link DASHBOARD_LIMITS.actors}, named ones first; see `actorsOmitted`. */
  actors: ActorView[];
  actorsOmitted: number;
  children: ChildView[];
  /** Newest last, at most {@link DASHBOARD_LIMITS.events}. */
  events: SupervisionEventView[];
  /** Times (ms since the epoch) of the rate points, oldest first, at most {@link DASHBOARD_LIMITS.ratePoints}. */
  rateTimes: number[];
  /** The busiest types, at most {@link DASHBOARD_LIMITS.rateSeries}. */
  rates: RateSeries[];
  /** At most {@link DASHBOARD_LIMITS.topics}, busiest first. */
  topics: TopicView[];
  /** The pi computation, when one is running in the namespace (its `pi.progress` topic). */
  pi: { points: PiPoint[]; contributors: number; done: boolean } | undefined;
}

/** The caps on what a snapshot holds. */
export const DASHBOARD_LIMITS = {
  actors: 500,
  processes: 1000,
  children: 1000,
  events: 200,
  ratePoints: 120,
  rateSeries: 12,
  topics: 50,
  recentPerTopic: 10,
  piPoints: 600,
} as const;
