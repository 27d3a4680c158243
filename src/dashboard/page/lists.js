// @ts-check
/**
 * The supervision event list (restarts, exits, escalations; newest first)
 * and the topic view (per topic: subscribers, messages, speakers, the last
 * few payloads). Both capped: LIST_LIMITS rows, whatever the snapshot holds.
 */
import { h } from './dom.js';
import { clip, fmtCount, fmtId, fmtNum, fmtTime } from './format.js';

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('./model.js').SupervisionEventView} SupervisionEventView */

export const LIST_LIMITS = { events: 100, topics: 20, messagesPerTopic: 10, speakers: 12 };

/**
 * How a child ended: `code 1`, `SIGKILL`, `code 0 · SIGTERM`, or ''.
 * @param {SupervisionEventView} e
 */
function exitOf(e) {
  const parts = [];
  if (e.code !== null) parts.push(`code ${fmtId(e.code)}`);
  if (e.signal !== null && e.signal !== '') parts.push(e.signal);
  return parts.join(' · ');
}

/**
 * The event rows, newest first.
 * @param {DashboardSnapshot} snap
 * @returns {Node[]}
 */
export function renderEvents(snap) {
  const events = snap.events.slice(-LIST_LIMITS.events).reverse();
  if (events.length === 0) return [h('p', { class: 'empty' }, 'No restarts or escalations.')];
  const now = Number.isFinite(snap.at) ? snap.at : Date.now();
  return events.map((e) =>
    h(
      'div',
      {
        class: `event-row ${e.kind}`,
        testid: 'event-row',
        'data-kind': e.kind,
        'data-child': e.child,
      },
      h('span', { class: 'ev-time num' }, fmtTime(e.at, now)),
      h('span', { class: `tag ev-${e.kind}` }, e.kind),
      h(
        'span',
        { class: 'ev-child', title: `supervisor ${e.supervisor}` },
        e.child !== '' ? e.child : e.kind === 'escalated' ? 'supervisor' : '(unnamed)',
      ),
      h('span', { class: 'ev-pid num muted' }, e.pid === undefined ? '' : `pid ${fmtId(e.pid)}`),
      h('span', { class: 'ev-exit num' }, exitOf(e)),
      e.detail !== '' && h('span', { class: 'ev-detail', title: e.detail }, e.detail),
    ),
  );
}

/**
 * A payload as shown: a chat line `{"name", "message"}` as the name then the
 * message, a notice `{"name", "event"}` as the name then the event, anything
 * else as its text. (JSON.parse only reads it; nothing becomes markup.)
 * @param {string} text
 */
function message(text) {
  /** @type {unknown} */
  let parsed;
  if (text.startsWith('{') && text.endsWith('}')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const { name, message: said, event } = /** @type {Record<string, unknown>} */ (parsed);
    const body =
      typeof said === 'string' ? said : typeof event === 'string' ? `(${event})` : undefined;
    if (typeof name === 'string' && body !== undefined) {
      return h(
        'span',
        { class: 'msg', title: text },
        h('span', { class: 'speaker' }, clip(name, 64)),
        ' ',
        clip(body, 300),
      );
    }
  }
  return h('span', { class: 'msg raw', title: text }, text);
}

/**
 * The topic cards, busiest first (as sent).
 * @param {DashboardSnapshot} snap
 * @returns {Node[]}
 */
export function renderTopics(snap) {
  const topics = snap.topics.slice(0, LIST_LIMITS.topics);
  if (topics.length === 0) return [h('p', { class: 'empty' }, 'No topics seen.')];
  const now = Number.isFinite(snap.at) ? snap.at : Date.now();
  return topics.map((t) => {
    const recent = t.recent.slice(-LIST_LIMITS.messagesPerTopic);
    const speakers = [...new Set(t.speakers)].slice(-LIST_LIMITS.speakers);
    return h(
      'div',
      { class: 'topic-row', testid: 'topic-row', 'data-topic': t.name },
      h(
        'div',
        { class: 'topic-head' },
        h('span', { class: 'topic-name', title: t.name }, `# ${t.name}`),
        h(
          'span',
          { class: 'muted' },
          t.subscribers === undefined ? 'subscribers ?' : `${fmtNum(t.subscribers)} subscribed`,
          ` · ${fmtCount(t.messages)} message${t.messages === 1 ? '' : 's'}`,
        ),
      ),
      speakers.length > 0 &&
        h(
          'div',
          { class: 'speakers' },
          ...speakers.map((name) => h('span', { class: 'chip', title: name }, name)),
        ),
      recent.length > 0 &&
        h(
          'ol',
          { class: 'recent' },
          ...recent.map((m) =>
            h('li', {}, h('span', { class: 'num muted' }, fmtTime(m.at, now)), message(m.text)),
          ),
        ),
    );
  });
}
