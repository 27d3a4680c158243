/** redis-ipc messages: JSON objects, parsed leniently (the C library writes `{ "k": v }`). */
import { DEFAULT_MAX_NESTING_DEPTH, describeProblem, treeProblem } from '../internal.js';

/** A command, result, event or debug message: a JSON object. */
export type IpcMessage = Record<string, unknown>;

/** The fields redis-ipc adds to commands (and results, events, debug messages). */
export const IPC_FIELDS = [
  'results_queue',
  'command_id',
  'timestamp',
  'component',
  'thread',
  'tid',
  'channel',
] as const;

/**
 * The JSON object in `raw`, or why there is none. Anyone may push or publish
 * these: JSON nested deeper than `maxDepth`, or with an own `__proto__`,
 * `constructor` or `prototype` key, is refused before anything walks it.
 */
export function parseIpcMessage(
  raw: string | Buffer,
  maxDepth: number = DEFAULT_MAX_NESTING_DEPTH,
): { message: IpcMessage } | { problem: string } {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      problem: `a JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not an object`,
    };
  }
  const problem = treeProblem(value, maxDepth);
  if (problem !== undefined) return { problem: describeProblem(problem) };
  return { message: value as IpcMessage };
}

/** `message` without the fields redis-ipc adds: what the sender meant to say. */
export function ipcPayload(message: IpcMessage): IpcMessage {
  const own = new Set<string>(IPC_FIELDS);
  return Object.fromEntries(Object.entries(message).filter(([field]) => !own.has(field)));
}

/** The first `"name": "text"` or `"name": 123` in text that is not valid JSON. */
export function scrapeField(text: string, name: string): string | number | undefined {
  const match = new RegExp(`"${name}"\\s*:\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(-?\\d+))`).exec(text);
  if (match === null) return undefined;
  if (match[1] !== undefined) {
    try {
      return JSON.parse(`"${match[1]}"`) as string;
    } catch {
      return undefined;
    }
  }
  return Number(match[2]);
}

/** A short, printable excerpt of a raw entry, for logs. */
export function excerpt(raw: string | Buffer): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
