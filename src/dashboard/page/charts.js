// @ts-check
/**
 * Message rates per type, as small live line charts over the snapshot's
 * `rateTimes` (one card per series, each on its own scale), and the plain
 * SVG helpers the charts share. Coordinates are computed numbers only,
 * written through `coord`, so no snapshot text reaches an SVG attribute.
 */
import { h, s } from './dom.js';
import { coord, fmtDuration, fmtRate, num } from './format.js';

/** @typedef {import('./model.js').DashboardSnapshot} DashboardSnapshot */

/**
 * A linear map from [d0, d1] to [r0, r1] (the middle of the range when the domain is empty).
 * @param {number} d0
 * @param {number} d1
 * @param {number} r0
 * @param {number} r1
 * @returns {(v: number) => number}
 */
export function linear(d0, d1, r0, r1) {
  const span = d1 - d0;
  if (!Number.isFinite(span) || span === 0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/**
 * An SVG path through the points, broken where a point is missing.
 * @param {[number, number][]} points
 * @returns {string}
 */
export function linePath(points) {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${coord(x)},${coord(y)}`;
    pen = true;
  }
  return d;
}

/**
 * "Nice" tick values covering [lo, hi], about `count` of them.
 * @param {number} lo
 * @param {number} hi
 * @param {number} count
 * @returns {number[]}
 */
export function ticks(lo, hi, count) {
  const span = hi - lo;
  if (!Number.isFinite(span) || span <= 0) return Number.isFinite(lo) ? [lo] : [];
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9 && out.length < 50; v += step) {
    out.push(v);
  }
  return out;
}

/**
 * The kind of a message type, for its colour: `tell:x`, `ask:x`, `reply`, or other.
 * @param {string} type
 */
function kindOf(type) {
  if (type.startsWith('tell')) return 'tell';
  if (type.startsWith('ask')) return 'ask';
  if (type.startsWith('reply')) return 'reply';
  if (type.startsWith('topic') || type.startsWith('publish')) return 'topic';
  return 'other';
}

const SPARK_W = 240;
const SPARK_H = 48;

/**
 * The rate cards of `snap`.
 * @param {DashboardSnapshot} snap
 * @returns {Node[]}
 */
export function renderRates(snap) {
  const times = snap.rateTimes;
  if (snap.rates.length === 0) {
    const why =
      snap.traffic === 'off' ? 'the traffic view is off' : 'no messages seen in the namespace yet';
    return [h('p', { class: 'empty' }, `No message rates: ${why}.`)];
  }
  const first = num(times[0]);
  const last = num(times[times.length - 1]);
  const timed = Number.isFinite(first) && Number.isFinite(last) && last > first;
  const n = times.length;
  const x = timed
    ? linear(first, last, 1, SPARK_W - 1)
    : linear(0, Math.max(1, n - 1), 1, SPARK_W - 1);
  return snap.rates.map((series) => {
    const values = series.perSec;
    const offset = n - values.length;
    let peak = 0;
    let sum = 0;
    let count = 0;
    for (const v of values) {
      if (Number.isFinite(v)) {
        peak = Math.max(peak, v);
        sum += v;
        count += 1;
      }
    }
    const y = linear(0, peak > 0 ? peak : 1, SPARK_H - 2, 4);
    /** @type {[number, number][]} */
    const points = values.map((v, i) => {
      const t = timed ? num(times[i + offset]) : i + offset;
      return [x(t), Number.isFinite(v) && v >= 0 ? y(v) : NaN];
    });
    const line = linePath(points);
    const valid = points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
    const head = valid[0];
    const tail = valid[valid.length - 1];
    const area =
      head !== undefined && tail !== undefined && valid.length > 1
        ? `${linePath(valid)}L${coord(tail[0])},${coord(SPARK_H)}L${coord(head[0])},${coord(SPARK_H)}Z`
        : '';
    const now = values[values.length - 1];
    const kind = kindOf(series.type);
    return h(
      'div',
      { class: `rate-card kind-${kind}`, testid: 'rate-chart', 'data-type': series.type },
      h(
        'div',
        { class: 'rate-head' },
        h(
          'span',
          { class: 'rate-type', title: series.type },
          series.type === '' ? '(untyped)' : series.type,
        ),
        h('span', { class: 'rate-now' }, fmtRate(now), h('small', {}, '/s')),
      ),
      s(
        'svg',
        {
          class: 'spark',
          viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
          preserveAspectRatio: 'none',
          role: 'img',
          'aria-label': `${series.type} messages per second`,
        },
        area !== '' && s('path', { class: 'spark-area', d: area }),
        s('path', { class: 'spark-line', d: line, 'vector-effect': 'non-scaling-stroke' }),
      ),
      h(
        'div',
        { class: 'rate-foot muted' },
        h('span', {}, `peak ${fmtRate(peak)}/s`),
        h('span', {}, `avg ${fmtRate(count > 0 ? sum / count : NaN)}/s`),
      ),
    );
  });
}

/**
 * The span the rate points cover, in words (`last 2m 00s`), or ''.
 * @param {DashboardSnapshot} snap
 */
export function rateSpan(snap) {
  const first = num(snap.rateTimes[0]);
  const last = num(snap.rateTimes[snap.rateTimes.length - 1]);
  return Number.isFinite(first) && Number.isFinite(last) && last > first
    ? `last ${fmtDuration(last - first)}`
    : '';
}
