// @ts-check
/**
 * The dashboard page: takes the server's snapshots (`GET snapshot.json` once
 * at start, then server-sent events on `GET events`, event `snapshot`) and
 * renders the latest one, at most once a frame. The page keeps nothing but
 * the latest snapshot: every render replaces the previous one's nodes, and
 * each panel makes a capped number of them, so neither the DOM nor memory
 * grows with time or with what strangers put in Redis.
 */
import { renderRates, rateSpan } from './charts.js';
import { byId, replace } from './dom.js';
import { fmtCount, fmtNum, fmtTime } from './format.js';
import { renderEvents, renderTopics } from './lists.js';
import { normalize } from './model.js';
import { renderPi } from './pi.js';
import { renderPools } from './pools.js';
import { renderTree } from './tree.js';

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {'connecting' | 'live' | 'stale' | 'disconnected'} ConnectionState */

/** Snapshots larger than this are refused (the server's are far smaller). */
const MAX_SNAPSHOT_CHARS = 32 * 1024 * 1024;
/** No snapshot for this long while connected: shown as stale. */
const STALE_MS = 5000;

const view = {
  root: document.documentElement,
  namespace: byId('namespace'),
  redis: byId('redis'),
  traffic: byId('traffic'),
  hosts: byId('count-hosts'),
  processes: byId('count-processes'),
  actors: byId('count-actors'),
  connection: byId('connection'),
  updated: byId('updated'),
  pause: /** @type {HTMLButtonElement} */ (byId('pause')),
  error: byId('error'),
  filter: /** @type {HTMLInputElement} */ (byId('filter')),
  pools: byId('pools'),
  tree: byId('tree'),
  summary: byId('tree-summary'),
  more: byId('tree-more'),
  piSlot: byId('pi-slot'),
  rates: byId('rates'),
  rateSpan: byId('rate-span'),
  events: byId('events'),
  eventCount: byId('event-count'),
  topics: byId('topics'),
};

const state = {
  /** @type {DashboardSnapshot | undefined} the newest snapshot received */
  latest: undefined,
  /** @type {DashboardSnapshot | undefined} the snapshot on screen */
  shown: undefined,
  receivedAt: 0,
  paused: false,
  /** @type {'samples' | 'time'} */
  xMode: 'samples',
  /** @type {ConnectionState} */
  connection: 'connecting',
  frame: 0,
  renders: 0,
};

/** @param {ConnectionState} next */
function setConnection(next) {
  state.connection = next;
  view.connection.setAttribute('data-state', next);
  view.connection.textContent = {
    connecting: 'connecting…',
    live: 'live',
    stale: 'no update',
    disconnected: 'disconnected',
  }[next];
}

/** Renders the newest snapshot (or, paused, the one on screen) at the next frame. */
function schedule() {
  if (state.frame !== 0) return;
  state.frame = requestAnimationFrame(() => {
    state.frame = 0;
    render();
  });
}

function render() {
  const snap = state.paused ? state.shown : state.latest;
  if (snap === undefined) return;
  const started = performance.now();
  // Read before the DOM changes, so that the render forces no layout of its own.
  const piWidth = view.piSlot.clientWidth - 34;
  try {
    renderHeader(snap);
    const { nodes, stats } = renderTree(snap, view.filter.value);
    replace(view.pools, renderPools(snap, view.filter.value));
    replace(view.tree, nodes);
    const notShown = stats.actorsMatched - stats.actorsShown;
    const filtered = view.filter.value.trim() !== '';
    view.summary.textContent = `${fmtCount(stats.actorsShown)} of ${fmtCount(
      filtered ? stats.actorsMatched : snap.actors.length + snap.actorsOmitted,
    )} actors${filtered ? ' matching' : ''}`;
    const more = [];
    if (notShown > 0) more.push(`${fmtCount(notShown)} more not shown (filter to narrow)`);
    if (stats.processesHidden > 0)
      more.push(`${fmtCount(stats.processesHidden)} more processes not shown`);
    if (snap.actorsOmitted > 0)
      more.push(`${fmtCount(snap.actorsOmitted)} more not sent by the server`);
    view.more.textContent = more.join(' · ');
    view.more.hidden = more.length === 0;
    replace(view.piSlot, snap.pi === undefined ? [] : [renderPi(snap.pi, piWidth, state.xMode)]);
    replace(view.rates, renderRates(snap));
    view.rateSpan.textContent = rateSpan(snap);
    replace(view.events, renderEvents(snap));
    view.eventCount.textContent = snap.events.length > 0 ? fmtCount(snap.events.length) : '';
    replace(view.topics, renderTopics(snap));
    view.error.hidden = true;
  } catch (error) {
    view.error.hidden = false;
    view.error.textContent = `Could not show this snapshot: ${error instanceof Error ? error.message : 'unknown error'}`;
  }
  state.shown = snap;
  state.renders += 1;
  view.root.setAttribute('data-render-ms', (performance.now() - started).toFixed(1));
  view.root.setAttribute('data-renders', String(state.renders));
}

/** @param {DashboardSnapshot} snap */
function renderHeader(snap) {
  view.namespace.textContent = snap.namespace === '' ? '(none)' : snap.namespace;
  view.redis.textContent = snap.redis === '' ? '—' : snap.redis;
  view.redis.setAttribute('title', snap.redis);
  view.traffic.textContent = snap.traffic;
  view.traffic.setAttribute('data-mode', snap.traffic);
  view.hosts.textContent = fmtCount(new Set(snap.processes.map((p) => p.host)).size);
  view.processes.textContent = fmtCount(snap.processes.length);
  view.actors.textContent = fmtCount(snap.actors.length + snap.actorsOmitted);
  document.title = `redis-actors · ${snap.namespace}`;
}

/** @param {string} text the JSON of one snapshot */
function accept(text) {
  if (text.length > MAX_SNAPSHOT_CHARS) return;
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    return;
  }
  state.latest = normalize(json);
  state.receivedAt = Date.now();
  if (state.connection === 'stale') setConnection('live');
  if (!state.paused) schedule();
}

function connect() {
  const source = new EventSource('events');
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('snapshot', (event) => {
    setConnection('live');
    accept(String(event.data));
  });
  source.addEventListener('error', () => {
    setConnection('disconnected');
    // A stream that ended with a non-retryable answer is not retried by EventSource itself.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
  });
}

function tick() {
  if (state.receivedAt === 0) return;
  const age = Date.now() - state.receivedAt;
  view.updated.textContent = `updated ${fmtTime(state.receivedAt)}${age > 1500 ? ` (${fmtNum(Math.floor(age / 1000))} s ago)` : ''}`;
  if (state.connection === 'live' && age > STALE_MS) setConnection('stale');
}

view.filter.addEventListener('input', schedule);
view.pause.addEventListener('click', () => {
  state.paused = !state.paused;
  view.pause.setAttribute('aria-pressed', String(state.paused));
  view.pause.textContent = state.paused ? 'Resume' : 'Pause';
  schedule();
});
view.piSlot.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('[data-x-mode]') : null;
  const mode = target?.getAttribute('data-x-mode');
  if (mode === 'samples' || mode === 'time') {
    state.xMode = mode;
    schedule();
  }
});
window.addEventListener('resize', schedule);
setInterval(tick, 1000);

fetch('snapshot.json', { cache: 'no-store' })
  .then((response) => (response.ok ? response.text() : ''))
  .then((text) => {
    if (text !== '' && state.latest === undefined) accept(text);
  })
  .catch(() => undefined);
setConnection('connecting');
connect();
