// @ts-check
/**
 * Number, time and text formatting for the dashboard page. Every value of a
 * snapshot came from Redis, so from anyone: each function here takes whatever
 * it is given (NaN, Infinity, 1e308, a string where a number belongs, …) and
 * returns short, printable text.
 */

/** Shown for a value that is missing or not a finite number. */
export const NONE = '—';

/**
 * `value` as a finite number, or NaN.
 * @param {unknown} value
 * @returns {number}
 */
export function num(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : NaN;
}

/**
 * `value` as a string (empty when it is none), at most `max` characters.
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string}
 */
export function str(value, max = 200) {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
  return clip(text, max);
}

/**
 * `text` cut to `max` characters, with an ellipsis when cut.
 * @param {string} text
 * @param {number} max
 * @returns {string}
 */
export function clip(text, max) {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

const SI = [
  { scale: 1e12, suffix: 'T' },
  { scale: 1e9, suffix: 'G' },
  { scale: 1e6, suffix: 'M' },
  { scale: 1e3, suffix: 'k' },
];

/**
 * A count or amount, compact: `812`, `12.4k`, `3.00G`, `1.2e+21`.
 * @param {unknown} value
 * @param {number} [decimals] decimals kept below 1,000 (0 for counts)
 * @returns {string}
 */
export function fmtNum(value, decimals = 0) {
  const n = num(value);
  if (Number.isNaN(n)) return NONE;
  const abs = Math.abs(n);
  if (abs >= 1e15) return n.toExponential(1);
  for (const { scale, suffix } of SI) {
    if (abs >= scale) {
      const scaled = n / scale;
      const digits = Math.abs(scaled) >= 100 ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
      return `${trimZeros(scaled.toFixed(digits))}${suffix}`;
    }
  }
  const text = n.toFixed(decimals === 0 || Number.isInteger(n) || abs >= 100 ? 0 : decimals);
  return /^-0(?:\.0*)?$/.test(text) ? text.slice(1) : text;
}

/**
 * An exact count with thousands separators: `1,000`, `2,996,830,208`.
 * @param {unknown} value
 * @returns {string}
 */
export function fmtCount(value) {
  const n = num(value);
  if (Number.isNaN(n)) return NONE;
  if (Math.abs(n) >= 1e15) return n.toExponential(2);
  const digits = Math.abs(Math.round(n)).toFixed(0);
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 && grouped !== '0' ? `-${grouped}` : grouped;
}

/**
 * An identifier-like integer, as is: a pid `41233`.
 * @param {unknown} value
 * @returns {string}
 */
export function fmtId(value) {
  const n = num(value);
  if (Number.isNaN(n) || Math.abs(n) >= 1e15) return NONE;
  return Math.trunc(n).toFixed(0);
}

/**
 * A rate per second: `0`, `0.4`, `12.3`, `4.51k`.
 * @param {unknown} value
 * @returns {string}
 */
export function fmtRate(value) {
  const n = num(value);
  if (Number.isNaN(n)) return NONE;
  if (n !== 0 && Math.abs(n) < 0.05) return n > 0 ? '<0.1' : '>-0.1';
  return fmtNum(n, 1);
}

/**
 * A size in bytes: `512 B`, `48.2 MiB`.
 * @param {unknown} value
 * @returns {string}
 */
export function fmtBytes(value) {
  const n = num(value);
  if (Number.isNaN(n) || n < 0) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = n;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  if (scaled >= 1e6) return NONE;
  return `${scaled.toFixed(unit === 0 || scaled >= 100 ? 0 : 1)} ${String(units[unit])}`;
}

/**
 * A duration in milliseconds, to two units: `45s`, `4m 05s`, `3h 12m`, `6d 2h`.
 * @param {unknown} value
 * @returns {string}
 */
export function fmtDuration(value) {
  const ms = num(value);
  if (Number.isNaN(ms) || ms < 0) return NONE;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  const d = Math.floor(h / 24);
  if (d > 99_999) return NONE;
  return `${d}d ${h % 24}h`;
}

/**
 * A wall-clock time (local), `14:03:27`, or the date too when not today.
 * @param {unknown} value ms since the epoch
 * @param {number} [now] the reference for "today"
 * @returns {string}
 */
export function fmtTime(value, now = Date.now()) {
  const at = num(value);
  if (Number.isNaN(at) || Math.abs(at) > 8.64e15) return NONE;
  const date = new Date(at);
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
  const today = new Date(Number.isFinite(now) ? now : Date.now());
  if (date.toDateString() === today.toDateString()) return time;
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${time}`;
}

/**
 * A number with a fixed count of decimals when it is of a printable size.
 * @param {unknown} value
 * @param {number} decimals
 * @returns {string}
 */
export function fmtFixed(value, decimals) {
  const n = num(value);
  if (Number.isNaN(n)) return NONE;
  if (Math.abs(n) >= 1e9) return n.toExponential(3);
  return n.toFixed(decimals);
}

/**
 * A coordinate for an SVG attribute: finite, bounded, one decimal.
 * @param {number} value
 * @returns {string}
 */
export function coord(value) {
  if (!Number.isFinite(value)) return '0';
  return Math.max(-1e5, Math.min(1e5, value)).toFixed(1);
}

/**
 * `1.50` → `1.5`, `2.00` → `2`.
 * @param {string} text
 * @returns {string}
 */
function trimZeros(text) {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * @param {number} n
 * @returns {string}
 */
function pad2(n) {
  return n < 10 ? `0${n}` : String(n);
}
