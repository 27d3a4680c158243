// @ts-check
/**
 * The durable pools above the tree: the pool members (actors with `pool`
 * set) that share a name, as one row per name, "pool of N", with the
 * members' processes and their summed figures. At most POOL_LIMIT rows.
 */
import { h } from './dom.js';
import { fmtCount, fmtNum, fmtRate, num, clip } from './format.js';
import { mailbox } from './tree.js';

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('./model.js').ActorView} ActorView */

export const POOL_LIMIT = 20;

/**
 * @param {number[]} values
 * @returns {number} the sum of the finite ones
 */
function sum(values) {
  return values.reduce((total, v) => (Number.isFinite(v) ? total + v : total), 0);
}

/**
 * The pool rows of `snap` whose name, or a member's address or host, contains `filter`.
 * @param {DashboardSnapshot} snap
 * @param {string} filter
 * @returns {Node[]}
 */
export function renderPools(snap, filter) {
  /** @type {Map<string, ActorView[]>} */
  const byName = new Map();
  for (const actor of snap.actors) {
    if (!actor.pool || actor.name === undefined) continue;
    const members = byName.get(actor.name);
    if (members === undefined) byName.set(actor.name, [actor]);
    else members.push(actor);
  }
  const needle = filter.trim().toLowerCase();
  const test = (/** @type {string} */ text) => text.toLowerCase().includes(needle);
  const pools = [...byName.entries()]
    .filter(
      ([name, members]) =>
        needle === '' || test(name) || members.some((m) => test(m.address) || test(m.host)),
    )
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (pools.length === 0) return [];
  const rows = pools.slice(0, POOL_LIMIT).map(([name, members]) => {
    const systems = [...new Set(members.map((m) => m.system))];
    const failed = sum(members.map((m) => m.failed));
    const dead = members.map((m) => num(m.deadLetters)).filter(Number.isFinite);
    const deadMax = dead.length > 0 ? Math.max(...dead) : NaN;
    return h(
      'div',
      {
        class: 'actor-row pool-row',
        testid: 'pool-row',
        'data-name': name,
        'data-members': members.length,
      },
      h(
        'div',
        { class: 'a-id' },
        h(
          'div',
          { class: 'a-line' },
          h('span', { class: 'a-name', title: name }, name),
          h('span', { class: 'tag pool' }, `pool of ${fmtCount(members.length)}`),
        ),
        h(
          'div',
          { class: 'a-addr', title: systems.join(' ') },
          clip(`on ${systems.join(', ')}`, 300),
        ),
      ),
      h('span', { class: 'num muted' }, `${fmtCount(systems.length)} proc`),
      mailbox(sum(members.map((m) => m.mailboxDepth)), sum(members.map((m) => m.mailboxCapacity))),
      h(
        'span',
        { class: 'num', title: 'handled / failed, all members' },
        fmtNum(sum(members.map((m) => m.handled))),
        h('span', { class: failed > 0 ? 'bad' : 'muted' }, ` / ${fmtNum(failed)}`),
      ),
      h(
        'span',
        { class: 'num', title: 'messages per second in / out, all members' },
        `${fmtRate(sum(members.map((m) => m.inPerSec)))} / ${fmtRate(sum(members.map((m) => m.outPerSec)))}`,
      ),
      h(
        'span',
        { class: deadMax > 0 ? 'num bad' : 'num muted', title: "dead letters of the pool's name" },
        Number.isFinite(deadMax) ? fmtNum(deadMax) : '',
      ),
    );
  });
  const more = pools.length - rows.length;
  return [
    h(
      'section',
      { class: 'pools' },
      h('h3', { class: 'host-head' }, h('span', { class: 'pools-title' }, 'Durable pools')),
      ...rows,
      more > 0 && h('div', { class: 'more' }, `${fmtCount(more)} more pools not shown`),
    ),
  ];
}
