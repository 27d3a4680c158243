/**
 * Poisonous payloads a stranger on the same Redis can publish: nesting deep
 * enough to overflow any recursive walk, and keys that pollute prototypes in
 * naive merges, spelled so that a raw-text check misses them.
 */
import { PROTOCOL_VERSION } from '../../src/index.js';

/** Far beyond any sane nesting limit, far below any size limit (~20 KB). */
export const DEEP = 10_000;

/** `[[[…"__proto__"…]]]`: the string makes a raw-text `__proto__` check walk the tree. */
export const deepArray = (depth = DEEP): string =>
  `${'['.repeat(depth)}"__proto__"${']'.repeat(depth)}`;

/** `{"a":{"a":…1…}}` */
export const deepObject = (depth = DEEP): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** An own `__proto__` key, escaped so that the raw text never says `__proto__`. */
export const escapedProto = '{"\\u005f_proto__":{"polluted":true}}';

/** `constructor.prototype`, what a naive deep merge walks into Object.prototype. */
export const constructorPrototype = '{"constructor":{"prototype":{"polluted":true}}}';

export interface EnvelopeParts {
  to: string;
  type?: string;
  id?: string;
  kind?: 'tell' | 'ask';
  extra?: Record<string, unknown>;
}

/** Envelope text with `bodyJson` spliced in verbatim (JSON.stringify could not even build it). */
export function envelopeWithBody(
  bodyJson: string,
  parts: EnvelopeParts,
  metaJson?: string,
): string {
  const head = JSON.stringify({
    v: PROTOCOL_VERSION,
    id: parts.id ?? `poison-${Math.random().toString(36).slice(2)}`,
    kind: parts.kind ?? 'tell',
    from: 'stranger',
    to: parts.to,
    type: parts.type ?? 'record',
    sentAt: Date.now(),
    ...(parts.kind === 'ask' ? { replyTo: 'stranger', deadline: Date.now() + 60_000 } : {}),
    ...parts.extra,
  });
  return `${head.slice(0, -1)},"body":${bodyJson}${metaJson === undefined ? '' : `,"meta":${metaJson}`}}`;
}

/** Every poisonous envelope shape, labelled, with the refusal reason it must get. */
export function poisonEnvelopes(to: string): [label: string, reason: string, payload: string][] {
  return [
    ['a deep array body holding "__proto__"', 'too-deep', envelopeWithBody(deepArray(), { to })],
    ['a deep object body', 'too-deep', envelopeWithBody(deepObject(), { to })],
    [
      'deep superjson meta',
      'too-deep',
      envelopeWithBody('{"a":1}', { to }, `{"values":${deepObject()}}`),
    ],
    [
      'a deep unknown top-level field',
      'too-deep',
      envelopeWithBody('1', { to, extra: { pad: 1 } }).replace('"pad":1', `"pad":${deepArray()}`),
    ],
    ['a batch nested deep', 'too-deep', deepArray()],
    [
      'an escaped own __proto__ key in the body',
      'unsafe-key',
      envelopeWithBody(escapedProto, { to }),
    ],
    ['a constructor.prototype body', 'unsafe-key', envelopeWithBody(constructorPrototype, { to })],
  ];
}

/** Whether anything polluted Object.prototype. */
export function prototypePolluted(): boolean {
  return (
    Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted') ||
    ({} as Record<string, unknown>).polluted !== undefined
  );
}
