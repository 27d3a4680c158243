// @ts-check
/**
 * The model behind the tree panel, without the DOM: the snapshot's processes
 * as a forest (root processes by host, each supervisor's children under it,
 * cycles cut), filtered, with the caps applied: at most
 * TREE_LIMITS.processNodes process nodes shown, and TREE_LIMITS.actorRows
 * actor rows shared out between them so that every process shown gets some.
 */

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('./model.js').ProcessView} ProcessView */
/** @typedef {import('./model.js').ActorView} ActorView */
/** @typedef {import('./model.js').ChildView} ChildView */

/** Orders addresses with their pids as numbers: `host-9` before `host-10`. */
const COLLATOR = new Intl.Collator('en', { numeric: true });

export const TREE_LIMITS = { actorRows: 200, processNodes: 100, childRows: 200, depth: 16 };

/**
 * @typedef {object} ProcNode
 * @property {ProcessView} proc
 * @property {boolean} listed it is in the snapshot's processes (not only named by an edge or an actor)
 * @property {ActorView[]} actors
 * @property {{ child: ChildView | undefined, node: ProcNode | undefined }[]} edges
 */

/**
 * @typedef {object} Planned a process node that passed the filter
 * @property {ProcNode} node
 * @property {ActorView[]} actors its actors that passed
 * @property {{ child: ChildView | undefined, sub: Planned | undefined }[]} edges
 * @property {number} allotted how many of `actors` get a row
 * @property {boolean} shown whether it is within the process node cap
 */

/**
 * @param {ActorView} a
 * @param {ActorView} b
 */
function byName(a, b) {
  if (a.name !== b.name) {
    if (a.name === undefined) return 1;
    if (b.name === undefined) return -1;
    return a.name < b.name ? -1 : 1;
  }
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

/**
 * @param {{ proc: ProcessView }} a
 * @param {{ proc: ProcessView }} b
 */
function byAddress(a, b) {
  return COLLATOR.compare(a.proc.address, b.proc.address);
}

/**
 * A process known only from an edge or an actor.
 * @param {string} address
 * @param {string} host
 * @param {number} pid
 * @returns {ProcNode}
 */
function unlisted(address, host, pid) {
  return {
    proc: {
      address,
      host,
      pid,
      startedAt: NaN,
      answered: false,
      supervisor: undefined,
      connected: false,
      subscribed: false,
      rssBytes: NaN,
      pendingAsks: NaN,
      sentPerSec: NaN,
      receivedPerSec: NaN,
      dropped: NaN,
    },
    listed: false,
    actors: [],
    edges: [],
  };
}

/**
 * The snapshot as a forest: root processes by host, each with its actors and edges.
 * @param {DashboardSnapshot} snap
 */
export function buildForest(snap) {
  /** @type {Map<string, ProcNode>} */
  const nodes = new Map();
  for (const proc of snap.processes) {
    if (!nodes.has(proc.address))
      nodes.set(proc.address, { proc, listed: true, actors: [], edges: [] });
  }
  /** @type {Map<string, { members: number, systems: Set<string> }>} */
  const pools = new Map();
  for (const actor of [...snap.actors].sort(byName)) {
    let node = nodes.get(actor.system);
    if (node === undefined) {
      node = unlisted(actor.system, actor.host, actor.pid);
      nodes.set(actor.system, node);
    }
    node.actors.push(actor);
    if (actor.pool && actor.name !== undefined) {
      const pool = pools.get(actor.name) ?? { members: 0, systems: new Set() };
      pool.members += 1;
      pool.systems.add(actor.system);
      pools.set(actor.name, pool);
    }
  }
  for (const child of snap.children) {
    if (!nodes.has(child.supervisor)) {
      const host = child.supervisor.replace(/-\d+$/, '');
      nodes.set(child.supervisor, unlisted(child.supervisor, host, NaN));
    }
  }
  /** @type {Map<string, string>} child process address → supervisor address */
  const parentOf = new Map();
  for (const [address, node] of nodes) {
    const sup = node.proc.supervisor;
    if (sup !== undefined && sup !== address && nodes.has(sup)) parentOf.set(address, sup);
  }
  for (const child of snap.children) {
    const address = child.address;
    if (address !== undefined && address !== child.supervisor && nodes.has(address)) {
      if (!parentOf.has(address)) parentOf.set(address, child.supervisor);
    }
  }
  /** @type {Map<string, ProcNode[]>} */
  const kids = new Map();
  for (const [address, sup] of parentOf) {
    const node = /** @type {ProcNode} */ (nodes.get(address));
    const list = kids.get(sup);
    if (list === undefined) kids.set(sup, [node]);
    else list.push(node);
  }
  for (const child of snap.children) {
    const sup = /** @type {ProcNode} */ (nodes.get(child.supervisor));
    const candidates = kids.get(child.supervisor) ?? [];
    const at = candidates.findIndex((k) =>
      child.address !== undefined ? k.proc.address === child.address : k.proc.pid === child.pid,
    );
    const node = at >= 0 ? candidates.splice(at, 1)[0] : undefined;
    sup.edges.push({ child, node });
  }
  for (const [sup, rest] of kids) {
    const node = /** @type {ProcNode} */ (nodes.get(sup));
    for (const k of rest.sort(byAddress)) node.edges.push({ child: undefined, node: k });
  }
  // Roots: processes nobody supervises, then one of each supervision cycle.
  const reached = new Set();
  /** @param {ProcNode} node */
  const reach = (node) => {
    const stack = [node];
    while (stack.length > 0) {
      const next = /** @type {ProcNode} */ (stack.pop());
      if (reached.has(next.proc.address)) continue;
      reached.add(next.proc.address);
      for (const edge of next.edges) if (edge.node !== undefined) stack.push(edge.node);
    }
  };
  const all = [...nodes.values()].sort(byAddress);
  /** @type {ProcNode[]} */
  const roots = all.filter((n) => !parentOf.has(n.proc.address));
  roots.forEach(reach);
  for (const node of all) {
    if (!reached.has(node.proc.address)) {
      roots.push(node);
      reach(node);
    }
  }
  /** @type {Map<string, ProcNode[]>} */
  const hosts = new Map();
  for (const root of roots) {
    const list = hosts.get(root.proc.host);
    if (list === undefined) hosts.set(root.proc.host, [root]);
    else list.push(root);
  }
  const hostList = [...hosts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { hosts: hostList, pools, hostCount: new Set(snap.processes.map((p) => p.host)).size };
}

/**
 * The filtered tree under `node`.
 * @param {ProcNode} node
 * @param {(text: string) => boolean} test
 * @param {boolean} inherited an ancestor matched, so all of this subtree shows
 * @param {number} depth
 * @param {Set<string>} visited
 * @returns {Planned | undefined}
 */
function plan(node, test, inherited, depth, visited) {
  visited.add(node.proc.address);
  const self = inherited || test(node.proc.address) || test(node.proc.host);
  const actors = self
    ? node.actors
    : node.actors.filter((a) => test(a.name ?? '') || test(a.address) || test(a.host));
  /** @type {Planned['edges']} */
  const edges = [];
  for (const edge of node.edges) {
    const next = edge.node;
    const sub =
      next !== undefined && !visited.has(next.proc.address) && depth < TREE_LIMITS.depth
        ? plan(next, test, self, depth + 1, visited)
        : undefined;
    if (self || sub !== undefined || (edge.child !== undefined && test(edge.child.name))) {
      edges.push({ child: edge.child, sub });
    }
  }
  if (!self && actors.length === 0 && edges.length === 0) return undefined;
  return { node, actors, edges, allotted: 0, shown: false };
}

/**
 * Shares `budget` rows between counts: each gets min(count, level), the level as high as fits.
 * @param {number[]} counts
 * @param {number} budget
 * @returns {number[]}
 */
export function allot(counts, budget) {
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total <= budget) return counts.slice();
  const used = (/** @type {number} */ level) =>
    counts.reduce((sum, c) => sum + Math.min(c, level), 0);
  let lo = 0;
  let hi = Math.max(0, ...counts);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (used(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const out = counts.map((c) => Math.min(c, lo));
  let left = budget - used(lo);
  for (let i = 0; i < out.length && left > 0; i++) {
    if (/** @type {number} */ (counts[i]) > /** @type {number} */ (out[i])) {
      out[i] = /** @type {number} */ (out[i]) + 1;
      left -= 1;
    }
  }
  return out;
}

/**
 * The filtered forest of `snap` with the caps applied (`shown`, `allotted` set).
 * @param {DashboardSnapshot} snap
 * @param {string} filter case-insensitive, in names, addresses and hosts
 */
export function planForest(snap, filter) {
  const forest = buildForest(snap);
  const needle = filter.trim().toLowerCase();
  const test =
    needle === '' ? () => true : (/** @type {string} */ t) => t.toLowerCase().includes(needle);
  const visited = new Set();
  /** @type {{ host: string, roots: Planned[] }[]} */
  const planned = [];
  for (const [host, roots] of forest.hosts) {
    const kept = [];
    for (const root of roots) {
      const p = visited.has(root.proc.address) ? undefined : plan(root, test, false, 0, visited);
      if (p !== undefined) kept.push(p);
    }
    if (kept.length > 0) planned.push({ host, roots: kept });
  }
  /** @type {Planned[]} pre-order */
  const order = [];
  /** @param {Planned} p */
  const walk = (p) => {
    order.push(p);
    for (const edge of p.edges) if (edge.sub !== undefined) walk(edge.sub);
  };
  for (const { roots } of planned) roots.forEach(walk);
  const shown = order.slice(0, TREE_LIMITS.processNodes);
  shown.forEach((p) => (p.shown = true));
  const shares = allot(
    shown.map((p) => p.actors.length),
    TREE_LIMITS.actorRows,
  );
  shown.forEach((p, i) => (p.allotted = shares[i] ?? 0));
  return { planned, order, pools: forest.pools };
}
