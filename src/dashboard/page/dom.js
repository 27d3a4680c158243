// @ts-check
/**
 * The only way the page creates elements. Text goes in as text nodes
 * (`textContent`), attributes through `setAttribute`, SVG through
 * `createElementNS`; attributes that take a URL, a style or a script are
 * refused, so that nothing from a snapshot can become markup, a link or CSS.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes never set from this module: URLs, inline style, event handlers. */
const FORBIDDEN =
  /^(?:on|href$|src$|srcset$|xlink:|action$|formaction$|style$|background$|poster$|data$|ping$)/i;

/**
 * @typedef {Record<string, string | number | boolean | undefined>} Attrs
 * `true` sets an empty attribute, `false`/`undefined` leaves it out.
 * `testid` is short for `data-testid`, `class` for the class attribute.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @param {Element} element
 * @param {Attrs | undefined} attrs
 */
function setAttrs(element, attrs) {
  if (attrs === undefined) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === 'class' && element instanceof HTMLElement) {
      element.className = String(value);
      continue;
    }
    const name = key === 'testid' ? 'data-testid' : key;
    if (FORBIDDEN.test(name)) throw new Error(`dom: refusing attribute ${name}`);
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} element
 * @param {Child[]} children
 */
function append(element, children) {
  /** @type {(Node | string)[]} */
  const kept = [];
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    kept.push(typeof child === 'object' ? child : String(child));
  }
  // Strings given to append() become text nodes, never markup.
  if (kept.length > 0) element.append(...kept);
}

/**
 * An HTML element with attributes and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  setAttrs(element, attrs);
  append(element, children);
  return element;
}

/**
 * An SVG element with attributes and children.
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function s(tag, attrs, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(element, attrs);
  append(element, children);
  return element;
}

/**
 * Replaces the children of `container` (the page's way of re-rendering: the
 * old nodes go, so the count never grows past what one render makes).
 * @param {Element} container
 * @param {Node[]} nodes
 */
export function replace(container, nodes) {
  container.replaceChildren(...nodes);
}

/**
 * The element with this id; throws when the page lacks it.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`dashboard page: no #${id}`);
  return element;
}
