// @ts-check
/**
 * The left panel: hosts → processes → actors, with each supervisor's children
 * nested under it (one `child-row` per supervisor → child edge, holding the
 * child's process node when it is in the snapshot). What is shown, and how
 * much, is decided in forest.js; this makes the nodes: at most
 * TREE_LIMITS.processNodes process nodes, TREE_LIMITS.actorRows actor rows,
 * and TREE_LIMITS.childRows child rows without a process node, per render.
 */
import { h, s } from './dom.js';
import { TREE_LIMITS, planForest } from './forest.js';
import { coord, fmtBytes, fmtCount, fmtDuration, fmtId, fmtNum, fmtRate, num } from './format.js';

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('./model.js').ActorView} ActorView */
/** @typedef {import('./model.js').ChildView} ChildView */
/** @typedef {import('./forest.js').Planned} Planned */

export { TREE_LIMITS };

/**
 * @typedef {object} TreeStats
 * @property {number} actorsShown
 * @property {number} actorsMatched
 * @property {number} processesHidden
 */

/**
 * The tree's nodes for `snap`, filtered by `filter` (case-insensitive, in names, addresses and hosts).
 * @param {DashboardSnapshot} snap
 * @param {string} filter
 * @returns {{ nodes: Node[], stats: TreeStats }}
 */
export function renderTree(snap, filter) {
  const { planned, order, pools } = planForest(snap, filter);
  /** @type {Context} */
  const context = {
    now: Number.isFinite(snap.at) ? snap.at : Date.now(),
    pools,
    childRows: TREE_LIMITS.childRows,
    actorRows: 0,
    processNodes: 0,
  };
  /** @type {Node[]} */
  const out = [];
  for (const { host, roots } of planned) {
    const visible = roots.filter((r) => r.shown);
    if (visible.length === 0) continue;
    const procs = countProcs(roots);
    const actors = roots.reduce((sum, r) => sum + countActors(r), 0);
    out.push(
      h(
        'section',
        { class: 'host', testid: 'host-node', 'data-host': host },
        h(
          'h3',
          { class: 'host-head' },
          h('span', { class: 'host-name', title: host }, host === '' ? '(no host)' : host),
          h(
            'span',
            { class: 'muted' },
            `${fmtCount(procs)} process${procs === 1 ? '' : 'es'} · ${fmtCount(actors)} actor${actors === 1 ? '' : 's'}`,
          ),
        ),
        ...visible.map((r) => processNode(r, context)),
      ),
    );
  }
  const stats = {
    actorsShown: context.actorRows,
    actorsMatched: order.reduce((sum, p) => sum + p.actors.length, 0),
    processesHidden: order.length - context.processNodes,
  };
  return { nodes: out, stats };
}

/** @param {Planned[]} roots */
function countProcs(roots) {
  let n = 0;
  /** @param {Planned} p */
  const walk = (p) => {
    n += 1;
    for (const e of p.edges) if (e.sub !== undefined) walk(e.sub);
  };
  roots.forEach(walk);
  return n;
}

/** @param {Planned} p @returns {number} */
function countActors(p) {
  return p.actors.length + p.edges.reduce((sum, e) => sum + (e.sub ? countActors(e.sub) : 0), 0);
}

/**
 * @typedef {object} Context
 * @property {number} now
 * @property {Map<string, { members: number, systems: Set<string> }>} pools
 * @property {number} childRows child rows left to make
 * @property {number} actorRows actor rows made
 * @property {number} processNodes process nodes made
 */

/**
 * @param {Planned} p
 * @param {Context} cx
 * @returns {HTMLElement}
 */
function processNode(p, cx) {
  cx.processNodes += 1;
  const proc = p.node.proc;
  const health = !p.node.listed
    ? 'gone'
    : !proc.connected
      ? 'bad'
      : !proc.answered || !proc.subscribed
        ? 'warn'
        : 'ok';
  const healthText = {
    gone: 'not in the process list',
    bad: 'its Redis connection is down',
    warn: !proc.answered ? 'did not answer this round' : 'not subscribed to its mailbox',
    ok: 'answering',
  }[health];
  const dropped = num(proc.dropped);
  const pending = num(proc.pendingAsks);
  const head = h(
    'div',
    { class: 'proc-head' },
    h('span', { class: `dot ${health}`, title: healthText }),
    h('span', { class: 'p-addr', title: proc.address }, proc.address),
    h('span', { class: 'muted' }, `pid ${fmtId(proc.pid)}`),
    p.node.listed &&
      h('span', { class: 'stat', title: 'uptime' }, `up ${fmtDuration(cx.now - proc.startedAt)}`),
    p.node.listed &&
      h('span', { class: 'stat', title: 'resident memory' }, fmtBytes(proc.rssBytes)),
    p.node.listed &&
      h(
        'span',
        { class: 'stat', title: 'envelopes sent / received per second' },
        `↑${fmtRate(proc.sentPerSec)} ↓${fmtRate(proc.receivedPerSec)}/s`,
      ),
    pending > 0 && h('span', { class: 'stat' }, `${fmtNum(pending)} pending`),
    dropped > 0 && h('span', { class: 'tag bad' }, `${fmtNum(dropped)} dropped`),
    health !== 'ok' && h('span', { class: `tag ${health}` }, healthText),
  );
  const rows = actorRows(p, cx);
  const hidden = p.actors.length - p.allotted;
  /** @type {HTMLElement[]} */
  const edges = [];
  let edgesHidden = 0;
  for (const edge of p.edges) {
    // A child's process node is always drawn (process nodes have their own cap); bare edges only within the cap.
    const nested = edge.sub !== undefined && edge.sub.shown ? processNode(edge.sub, cx) : undefined;
    if (edge.child === undefined) {
      if (nested !== undefined) edges.push(h('div', { class: 'nested' }, nested));
      continue;
    }
    if (cx.childRows <= 0 && nested === undefined) {
      edgesHidden += 1;
      continue;
    }
    cx.childRows -= 1;
    edges.push(childRow(edge.child, nested));
  }
  return h(
    'div',
    { class: 'proc', testid: 'process-node', 'data-address': proc.address },
    head,
    rows.length > 0 && h('div', { class: 'actors' }, ...rows),
    hidden > 0 &&
      h(
        'div',
        { class: 'more' },
        `${fmtCount(hidden)} more actor${hidden === 1 ? '' : 's'} here not shown`,
      ),
    edges.length > 0 && h('div', { class: 'children' }, ...edges),
    edgesHidden > 0 &&
      h('div', { class: 'more' }, `${fmtCount(edgesHidden)} more children not shown`),
  );
}

/**
 * @param {ChildView} child
 * @param {HTMLElement | undefined} nested
 */
function childRow(child, nested) {
  const restarts = num(child.restarts);
  return h(
    'div',
    {
      class: 'child-row',
      testid: 'child-row',
      'data-child': child.name,
      'data-restarts': Number.isFinite(restarts) ? restarts : 0,
      'data-state': child.state,
    },
    h(
      'div',
      { class: 'child-head' },
      h('span', { class: 'edge' }, '↳'),
      h(
        'span',
        { class: 'c-name', title: child.name },
        child.name === '' ? '(unnamed)' : child.name,
      ),
      h('span', { class: `state ${child.state}` }, child.state),
      h('span', { class: 'muted' }, child.pid === undefined ? 'no pid' : `pid ${fmtId(child.pid)}`),
      h(
        'span',
        { class: restarts > 0 ? 'tag warn' : 'muted', title: 'restarts by its supervisor' },
        `↻ ${fmtNum(restarts)} restart${restarts === 1 ? '' : 's'}`,
      ),
      nested === undefined &&
        child.address !== undefined &&
        h('span', { class: 'muted c-addr', title: child.address }, child.address),
    ),
    nested,
  );
}

/**
 * The rows of the first `allotted` actors of `p`, pool members sharing a name under one group.
 * @param {Planned} p
 * @param {Context} cx
 * @returns {HTMLElement[]}
 */
function actorRows(p, cx) {
  /** @type {HTMLElement[]} */
  const out = [];
  const actors = p.actors.slice(0, p.allotted);
  for (let i = 0; i < actors.length;) {
    const actor = /** @type {ActorView} */ (actors[i]);
    const pool = actor.pool && actor.name !== undefined ? cx.pools.get(actor.name) : undefined;
    if (pool === undefined) {
      out.push(actorRow(actor, cx));
      i += 1;
      continue;
    }
    let j = i;
    while (j < actors.length && actors[j]?.pool && actors[j]?.name === actor.name) j += 1;
    if (j - i === 1) {
      // The only member here: its row says "pool of N" (the pools section above groups them all).
      out.push(actorRow(actor, cx));
      i = j;
      continue;
    }
    const members = actors.slice(i, j).map((member) => actorRow(member, cx, true));
    const systems = pool.systems.size;
    out.push(
      h(
        'div',
        {
          class: 'pool-group',
          testid: 'pool-group',
          'data-name': actor.name ?? '',
          'data-members': pool.members,
        },
        h(
          'div',
          { class: 'pool-head' },
          h('span', { class: 'tag pool' }, `pool of ${fmtNum(pool.members)}`),
          h('span', { class: 'pool-name', title: actor.name ?? '' }, actor.name ?? ''),
          h(
            'span',
            { class: 'muted' },
            `${fmtNum(members.length)} here · on ${fmtNum(systems)} process${systems === 1 ? '' : 'es'}`,
          ),
        ),
        ...members,
      ),
    );
    i = j;
  }
  return out;
}

/**
 * @param {ActorView} a
 * @param {Context} cx
 * @param {boolean} [grouped] under its pool's group header (which says "pool of N")
 */
function actorRow(a, cx, grouped = false) {
  cx.actorRows += 1;
  const now = cx.now;
  const poolSize = a.name === undefined ? 1 : (cx.pools.get(a.name)?.members ?? 1);
  const failed = num(a.failed);
  return h(
    'div',
    {
      class: 'actor-row',
      testid: 'actor-row',
      'data-name': a.name ?? '',
      'data-address': a.address,
    },
    h(
      'div',
      { class: 'a-id' },
      h(
        'div',
        { class: 'a-line' },
        h(
          'span',
          { class: a.name === undefined ? 'a-name anon' : 'a-name', title: a.name ?? '' },
          a.name ?? 'anonymous',
        ),
        a.pool && !grouped && h('span', { class: 'tag pool' }, `pool of ${fmtNum(poolSize)}`),
        a.durable && h('span', { class: 'tag durable' }, 'durable'),
      ),
      h('div', { class: 'a-addr', title: a.address }, `${a.address} · pid ${fmtId(a.pid)}`),
    ),
    h('span', { class: 'num', title: 'uptime' }, fmtDuration(now - a.startedAt)),
    mailbox(a.mailboxDepth, a.mailboxCapacity),
    h(
      'span',
      { class: 'num', title: 'handled / failed' },
      fmtNum(a.handled),
      h('span', { class: failed > 0 ? 'bad' : 'muted' }, ` / ${fmtNum(failed)}`),
    ),
    h(
      'span',
      { class: 'num', title: 'messages per second in (handled) / out (sent)' },
      `${fmtRate(a.inPerSec)} / ${fmtRate(a.outPerSec)}`,
    ),
    h(
      'span',
      { class: num(a.deadLetters) > 0 ? 'num bad' : 'num muted', title: 'dead letters' },
      a.deadLetters === undefined ? '' : fmtNum(a.deadLetters),
    ),
  );
}

/**
 * A mailbox depth/capacity bar and its figures.
 * @param {number} depth
 * @param {number} capacity
 */
export function mailbox(depth, capacity) {
  const ratio = capacity > 0 && depth > 0 ? Math.min(1, depth / capacity) : 0;
  const level = ratio >= 0.9 ? 'full' : ratio >= 0.5 ? 'high' : 'low';
  const width = 40;
  return h(
    'span',
    { class: 'mbox', title: 'mailbox: waiting / capacity' },
    s(
      'svg',
      { class: 'bar', width, height: 6, viewBox: `0 0 ${width} 6`, 'aria-hidden': 'true' },
      s('rect', { class: 'bar-bg', x: 0, y: 0, width, height: 6, rx: 3 }),
      ratio > 0 &&
        s('rect', {
          class: `bar-fg ${level}`,
          x: 0,
          y: 0,
          width: coord(Math.max(3, ratio * width)),
          height: 6,
          rx: 3,
        }),
    ),
    h('span', { class: 'num' }, `${fmtNum(depth)}/${fmtNum(capacity)}`),
  );
}
