/**
 * Checks for JSON that came from Redis, i.e. from anyone. JSON.parse itself
 * is iterative, but everything that walks its result afterwards (our checks,
 * superjson, JSON.stringify, the application) may recurse, so a value nested
 * deeper than a limit is refused before anything walks it. Own keys that
 * naive merges turn into prototype pollution are refused as well; checking
 * the parsed keys, not the text, also catches escaped spellings such as
 * `"\u005f_proto__"`.
 */

/** Keys that a naive deep merge follows into `Object.prototype`. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Deepest nesting accepted by default (arrays and objects), counted from the
 * value itself: `1` is depth 0, `[1]` depth 1.
 */
export const DEFAULT_MAX_NESTING_DEPTH = 200;

/** Highest configurable limit: well within the stack of any walk. */
export const MAX_NESTING_DEPTH_LIMIT = 1000;

/** Why a parsed value is refused. */
export interface TreeProblem {
  reason: 'too-deep' | 'unsafe-key';
  detail: string;
}

/**
 * Why `root` (freshly parsed JSON) must not be used, or `undefined`. Walks
 * without recursion and stops at the first problem, so its cost is bounded by
 * the size of the text that was parsed.
 */
export function treeProblem(root: unknown, maxDepth: number): TreeProblem | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  const pending: object[] = [root];
  const depths: number[] = [1];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const depth = depths.pop() ?? 0;
    if (depth > maxDepth) {
      return { reason: 'too-deep', detail: `nested deeper than ${maxDepth} levels` };
    }
    if (Array.isArray(next)) {
      for (const item of next as unknown[]) {
        if (typeof item === 'object' && item !== null) {
          pending.push(item);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const key in next) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        return { reason: 'unsafe-key', detail: `an own "${key}" key is not accepted` };
      }
      const item = (next as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) {
        pending.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** Parses untrusted JSON text: the value, or why it is refused (`not-json` included). */
export function parseUntrusted(
  text: string,
  maxDepth: number,
): { value: unknown } | { problem: TreeProblem | { reason: 'not-json'; detail: string } } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: { reason: 'not-json', detail: (error as Error).message } };
  }
  const problem = treeProblem(value, maxDepth);
  return problem === undefined ? { value } : { problem };
}

/** `"reason: detail"` with spaces instead of dashes in the reason: for human-facing messages. */
export function describeProblem(problem: { reason: string; detail: string }): string {
  return `${problem.reason.replace(/-/g, ' ')}: ${problem.detail}`;
}
