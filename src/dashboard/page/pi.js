// @ts-check
/**
 * The pi panel (only while the namespace runs the pi example): the estimate
 * converging as samples accumulate, estimate ± 2 standard errors as a shaded
 * band, a dashed line at π; x is the sample count on a log scale, or time.
 */
import { h, s } from './dom.js';
import { coord, fmtCount, fmtDuration, fmtFixed, fmtNum, fmtRate } from './format.js';
import { linear, linePath, ticks } from './charts.js';

/** @typedef {import('./model.js').PiView} PiView */
/** @typedef {import('./model.js').PiPoint} PiPoint */
/** @typedef {'samples' | 'time'} XMode */

const HEIGHT = 215;
const MARGIN = { left: 70, right: 34, top: 12, bottom: 30 };
/** The y axis never spans more than this either side of π (early estimates wander). */
const MAX_SPREAD = 0.75;

/**
 * `10^k` in words: 1, 10, 100, 1k, 10k, …, 1G.
 * @param {number} k
 */
function powerLabel(k) {
  if (k < 3) return String(10 ** k);
  const suffix = ['k', 'M', 'G', 'T', 'P', 'E'][Math.floor(k / 3) - 1];
  return suffix === undefined ? `1e${k}` : `${10 ** (k % 3)}${suffix}`;
}

/**
 * Decimals that tell ticks `step` apart.
 * @param {number} step
 */
function decimalsFor(step) {
  if (!(step > 0)) return 2;
  return Math.min(
    10,
    Math.max(0, Math.ceil(-Math.log10(step) + 1e-9) + (step.toString().includes('25') ? 1 : 0)),
  );
}

/**
 * Samples per second over about the last five seconds.
 * @param {PiPoint[]} points time order
 */
function samplesPerSec(points) {
  const last = points[points.length - 1];
  if (last === undefined) return NaN;
  const from = points.find((p) => p.at >= last.at - 5000 && p.at < last.at);
  if (from === undefined) return NaN;
  const dt = (last.at - from.at) / 1000;
  return dt > 0 ? (last.samples - from.samples) / dt : NaN;
}

/**
 * The pi panel.
 * @param {PiView} pi
 * @param {number} width pixels available for the chart
 * @param {XMode} mode
 * @returns {HTMLElement}
 */
export function renderPi(pi, width, mode) {
  const points = pi.points.filter(
    (p) => Number.isFinite(p.estimate) && Number.isFinite(p.samples) && Number.isFinite(p.at),
  );
  const latest = points[points.length - 1];
  const se = latest === undefined ? NaN : latest.standardError;
  const sigmas = latest !== undefined && se > 0 ? Math.abs(latest.estimate - Math.PI) / se : NaN;
  const stat = (
    /** @type {string} */ label,
    /** @type {string} */ value,
    /** @type {string} */ testid,
  ) => h('div', { class: 'pi-stat' }, h('dt', {}, label), h('dd', { testid }, value));
  return h(
    'section',
    { class: 'panel pi', testid: 'pi-chart', 'data-done': pi.done },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', {}, 'π by Monte-Carlo'),
      h(
        'span',
        { class: pi.done ? 'tag ok' : 'tag live', testid: 'pi-done' },
        pi.done ? 'done' : 'running',
      ),
      h(
        'div',
        { class: 'toggle', role: 'group', 'aria-label': 'x axis' },
        h('span', { class: 'muted' }, 'x:'),
        h(
          'button',
          { type: 'button', 'data-x-mode': 'samples', 'aria-pressed': mode === 'samples' },
          'samples (log)',
        ),
        h(
          'button',
          { type: 'button', 'data-x-mode': 'time', 'aria-pressed': mode === 'time' },
          'time',
        ),
      ),
    ),
    h(
      'div',
      { class: 'pi-top' },
      h(
        'div',
        { class: 'pi-big' },
        h('span', { class: 'pi-symbol' }, 'π ≈ '),
        h('span', { class: 'pi-value', testid: 'pi-estimate' }, fmtFixed(latest?.estimate, 8)),
        h('span', { class: 'pi-pm' }, ` ± ${fmtFixed(se, 8)}`),
      ),
      h(
        'dl',
        { class: 'pi-stats' },
        stat('samples', fmtCount(latest?.samples), 'pi-samples'),
        stat('samples/s', fmtRate(samplesPerSec(points)), 'pi-rate'),
        stat('contributors', fmtNum(pi.contributors), 'pi-contributors'),
        stat('|est − π|', Number.isFinite(sigmas) ? `${sigmas.toFixed(2)} σ` : '—', 'pi-sigmas'),
      ),
    ),
    chart(points, Math.max(280, Math.floor(width)), mode),
  );
}

/**
 * @param {PiPoint[]} all
 * @param {number} width
 * @param {XMode} mode
 */
function chart(all, width, mode) {
  const t0 = all[0]?.at ?? 0;
  const xOf =
    mode === 'samples'
      ? (/** @type {PiPoint} */ p) => (p.samples > 0 ? Math.log10(p.samples) : NaN)
      : (/** @type {PiPoint} */ p) => (p.at - t0) / 1000;
  const points = all
    .map((p) => ({
      x: xOf(p),
      y: p.estimate,
      e: Number.isFinite(p.standardError) ? Math.abs(p.standardError) : 0,
    }))
    .filter((p) => Number.isFinite(p.x))
    .sort((a, b) => a.x - b.x);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const svg = (/** @type {import('./dom.js').Child[]} */ ...children) =>
    s(
      'svg',
      {
        class: 'pi-svg',
        width,
        height: HEIGHT,
        viewBox: `0 0 ${width} ${HEIGHT}`,
        role: 'img',
        'aria-label': 'the estimate of π and its error band',
      },
      ...children,
    );
  if (points.length === 0) {
    return svg(
      s('path', { class: 'band', 'data-series': 'band', d: '' }),
      s('path', { class: 'estimate', 'data-series': 'estimate', d: '' }),
      s(
        'text',
        { x: width / 2, y: HEIGHT / 2, class: 'axis-label', 'text-anchor': 'middle' },
        'waiting for the first estimate…',
      ),
    );
  }
  let x0 = Math.min(...points.map((p) => p.x));
  let x1 = Math.max(...points.map((p) => p.x));
  if (x1 - x0 < 1e-9) {
    x0 -= mode === 'samples' ? 0.5 : 1;
    x1 += mode === 'samples' ? 0.5 : 1;
  }
  let lo = Math.PI;
  let hi = Math.PI;
  for (const p of points) {
    lo = Math.min(lo, p.y - 2 * p.e);
    hi = Math.max(hi, p.y + 2 * p.e);
  }
  lo = Math.max(lo, Math.PI - MAX_SPREAD);
  hi = Math.min(hi, Math.PI + MAX_SPREAD);
  const pad = Math.max((hi - lo) * 0.08, 1e-7);
  lo -= pad;
  hi += pad;
  const x = linear(x0, x1, MARGIN.left, MARGIN.left + plotW);
  const yRaw = linear(lo, hi, MARGIN.top + plotH, MARGIN.top);
  const y = (/** @type {number} */ v) => yRaw(Math.max(lo, Math.min(hi, v)));

  /** @type {SVGElement[]} */
  const grid = [];
  const yTicks = ticks(lo, hi, 5);
  const step =
    yTicks.length > 1
      ? /** @type {number} */ (yTicks[1]) - /** @type {number} */ (yTicks[0])
      : hi - lo;
  const decimals = decimalsFor(step);
  for (const v of yTicks) {
    const py = coord(yRaw(v));
    grid.push(
      s('line', { class: 'gridline', x1: MARGIN.left, x2: MARGIN.left + plotW, y1: py, y2: py }),
      s(
        'text',
        {
          class: 'axis-label',
          x: MARGIN.left - 8,
          y: py,
          'text-anchor': 'end',
          'dominant-baseline': 'middle',
        },
        v.toFixed(decimals),
      ),
    );
  }
  const xTicks =
    mode === 'samples'
      ? ticks(Math.ceil(x0), Math.floor(x1), 8).filter((k) => Number.isInteger(k))
      : ticks(x0, x1, Math.max(3, Math.floor(plotW / 90)));
  for (const v of xTicks) {
    const px = coord(x(v));
    grid.push(
      s('line', { class: 'gridline', x1: px, x2: px, y1: MARGIN.top, y2: MARGIN.top + plotH }),
      s(
        'text',
        { class: 'axis-label', x: px, y: MARGIN.top + plotH + 18, 'text-anchor': 'middle' },
        mode === 'samples' ? powerLabel(v) : fmtDuration(v * 1000),
      ),
    );
  }
  const upper = points.map((p) => /** @type {[number, number]} */ ([x(p.x), y(p.y + 2 * p.e)]));
  const lower = points
    .map((p) => /** @type {[number, number]} */ ([x(p.x), y(p.y - 2 * p.e)]))
    .reverse();
  const band = `${linePath(upper)}${linePath(lower).replace(/^M/, 'L')}Z`;
  const estimate = linePath(points.map((p) => [x(p.x), y(p.y)]));
  const piY = coord(yRaw(Math.PI));
  const last = /** @type {{ x: number, y: number }} */ (points[points.length - 1]);
  return svg(
    s('rect', { class: 'plot-bg', x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH }),
    ...grid,
    s('path', { class: 'band', 'data-series': 'band', d: band }),
    s('line', {
      class: 'pi-line',
      'data-series': 'pi',
      x1: MARGIN.left,
      x2: MARGIN.left + plotW,
      y1: piY,
      y2: piY,
    }),
    s(
      'text',
      { class: 'pi-label', x: MARGIN.left + plotW + 6, y: piY, 'dominant-baseline': 'middle' },
      'π',
    ),
    s('path', { class: 'estimate', 'data-series': 'estimate', d: estimate }),
    s('circle', { class: 'estimate-dot', cx: coord(x(last.x)), cy: coord(y(last.y)), r: 3.5 }),
    s('rect', {
      class: 'legend-band',
      x: MARGIN.left + 10,
      y: MARGIN.top + 8,
      width: 14,
      height: 9,
    }),
    s(
      'text',
      { class: 'legend', x: MARGIN.left + 30, y: MARGIN.top + 13, 'dominant-baseline': 'middle' },
      'estimate ± 2 standard errors',
    ),
  );
}
