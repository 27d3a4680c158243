// @ts-check
/**
 * Turns the JSON of one snapshot into the shape the page renders, whatever
 * the JSON holds: every string is a string (cut short), every number a
 * number (NaN when it was not one), every list an array cut to what the page
 * shows. The renderers then only meet values of the documented types.
 */
import { num, str } from './format.js';

/** @typedef {import('../snapshot.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('../snapshot.js').ProcessView} ProcessView */
/** @typedef {import('../snapshot.js').ActorView} ActorView */
/** @typedef {import('../snapshot.js').ChildView} ChildView */
/** @typedef {import('../snapshot.js').SupervisionEventView} SupervisionEventView */
/** @typedef {import('../snapshot.js').RateSeries} RateSeries */
/** @typedef {import('../snapshot.js').TopicView} TopicView */
/** @typedef {import('../snapshot.js').PiPoint} PiPoint */
/** @typedef {NonNullable<DashboardSnapshot['pi']>} PiView */

/** What the page keeps of a snapshot at most (the server caps lower, mostly). */
export const PAGE_LIMITS = {
  processes: 1000,
  actors: 2000,
  children: 1000,
  events: 100,
  ratePoints: 240,
  rateSeries: 12,
  topics: 20,
  recentPerTopic: 10,
  speakers: 20,
  piPoints: 1000,
};

const TRAFFIC = ['monitor', 'psubscribe', 'off'];
const CHILD_STATES = ['starting', 'running', 'stopping', 'stopped'];
const EVENT_KINDS = ['exited', 'restarted', 'escalated'];

/**
 * @param {unknown} value
 * @returns {Record<string, unknown>}
 */
function obj(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? /** @type {Record<string, unknown>} */ (value)
    : {};
}

/**
 * The first `max` entries of `value` when it is an array (the last `max` when `fromEnd`).
 * @param {unknown} value
 * @param {number} max
 * @param {boolean} [fromEnd]
 * @returns {unknown[]}
 */
function list(value, max, fromEnd = false) {
  if (!Array.isArray(value)) return [];
  if (value.length <= max) return value;
  return fromEnd ? value.slice(value.length - max) : value.slice(0, max);
}

/**
 * @param {unknown} value
 * @returns {string | undefined}
 */
function optStr(value) {
  return typeof value === 'string' ? str(value) : undefined;
}

/**
 * @param {unknown} value
 * @returns {number | undefined}
 */
function optNum(value) {
  return value === undefined || value === null ? undefined : num(value);
}

/**
 * @template {string} T
 * @param {unknown} value
 * @param {readonly string[]} allowed
 * @param {T} fallback
 * @returns {T}
 */
function oneOf(value, allowed, fallback) {
  return typeof value === 'string' && allowed.includes(value) ? /** @type {T} */ (value) : fallback;
}

/**
 * @param {unknown} raw
 * @returns {ProcessView}
 */
function processView(raw) {
  const p = obj(raw);
  return {
    address: str(p.address),
    host: str(p.host),
    pid: num(p.pid),
    startedAt: num(p.startedAt),
    answered: p.answered === true,
    supervisor: optStr(p.supervisor),
    connected: p.connected === true,
    subscribed: p.subscribed === true,
    rssBytes: num(p.rssBytes),
    pendingAsks: num(p.pendingAsks),
    sentPerSec: num(p.sentPerSec),
    receivedPerSec: num(p.receivedPerSec),
    dropped: num(p.dropped),
  };
}

/**
 * @param {unknown} raw
 * @returns {ActorView}
 */
function actorView(raw) {
  const a = obj(raw);
  return {
    address: str(a.address),
    name: optStr(a.name),
    system: str(a.system),
    host: str(a.host),
    pid: num(a.pid),
    startedAt: num(a.startedAt),
    pool: a.pool === true,
    durable: a.durable === true,
    mailboxDepth: num(a.mailboxDepth),
    mailboxCapacity: num(a.mailboxCapacity),
    handled: num(a.handled),
    failed: num(a.failed),
    inPerSec: num(a.inPerSec),
    outPerSec: num(a.outPerSec),
    deadLetters: optNum(a.deadLetters),
  };
}

/**
 * @param {unknown} raw
 * @returns {ChildView}
 */
function childView(raw) {
  const c = obj(raw);
  return {
    supervisor: str(c.supervisor),
    name: str(c.name),
    state: oneOf(c.state, CHILD_STATES, 'stopped'),
    pid: optNum(c.pid),
    address: optStr(c.address),
    restarts: num(c.restarts),
  };
}

/**
 * @param {unknown} raw
 * @returns {SupervisionEventView}
 */
function eventView(raw) {
  const e = obj(raw);
  return {
    at: num(e.at),
    supervisor: str(e.supervisor),
    kind: oneOf(e.kind, EVENT_KINDS, 'exited'),
    child: str(e.child),
    pid: optNum(e.pid),
    code: e.code === null || e.code === undefined ? null : num(e.code),
    signal: typeof e.signal === 'string' ? str(e.signal, 20) : null,
    detail: str(e.detail, 500),
  };
}

/**
 * @param {unknown} raw
 * @returns {TopicView}
 */
function topicView(raw) {
  const t = obj(raw);
  return {
    name: str(t.name),
    subscribers: optNum(t.subscribers),
    messages: num(t.messages),
    recent: list(t.recent, PAGE_LIMITS.recentPerTopic, true).map((r) => {
      const m = obj(r);
      return { at: num(m.at), text: str(m.text, 300) };
    }),
    speakers: list(t.speakers, PAGE_LIMITS.speakers, true).map((name) => str(name, 64)),
  };
}

/**
 * @param {unknown} raw
 * @returns {PiView | undefined}
 */
function piView(raw) {
  if (raw === undefined || raw === null) return undefined;
  const p = obj(raw);
  return {
    points: list(p.points, PAGE_LIMITS.piPoints, true).map((raw) => {
      const point = obj(raw);
      return {
        at: num(point.at),
        samples: num(point.samples),
        estimate: num(point.estimate),
        standardError: num(point.standardError),
      };
    }),
    contributors: num(p.contributors),
    done: p.done === true,
  };
}

/**
 * The snapshot in `json`, in the documented shape.
 * @param {unknown} json
 * @returns {DashboardSnapshot}
 */
export function normalize(json) {
  const raw = obj(json);
  const actors = Array.isArray(raw.actors) ? raw.actors : [];
  const rateTimes = list(raw.rateTimes, PAGE_LIMITS.ratePoints, true).map(num);
  return {
    at: num(raw.at),
    namespace: str(raw.namespace),
    redis: str(raw.redis, 300),
    traffic: oneOf(raw.traffic, TRAFFIC, 'off'),
    processes: list(raw.processes, PAGE_LIMITS.processes).map(processView),
    actors: list(actors, PAGE_LIMITS.actors).map(actorView),
    actorsOmitted:
      (Number.isFinite(num(raw.actorsOmitted)) ? num(raw.actorsOmitted) : 0) +
      Math.max(0, actors.length - PAGE_LIMITS.actors),
    children: list(raw.children, PAGE_LIMITS.children).map(childView),
    events: list(raw.events, PAGE_LIMITS.events, true).map(eventView),
    rateTimes,
    rates: list(raw.rates, PAGE_LIMITS.rateSeries).map((r) => {
      const series = obj(r);
      return {
        type: str(series.type, 80),
        perSec: list(series.perSec, rateTimes.length, true).map(num),
      };
    }),
    topics: list(raw.topics, PAGE_LIMITS.topics).map(topicView),
    pi: piView(raw.pi),
  };
}
