/**
 * `ctx.once(key, fn)`: a side effect that happens once across the deliveries
 * of a message. The key `<ns>:once:{<actor name>}:<key>` holds
 * `running|<token>` while a consumer runs `fn`, then `done:<JSON result>`
 * for `ttlMs`. A later call returns the remembered result without running
 * `fn`; a call while another live consumer runs it throws
 * OnceInProgressError (the delivery is retried later); when that consumer's
 * process is gone, the call takes over and runs `fn`. If `fn` throws, the
 * mark is removed and a later delivery may run it again. What remains: a
 * process that dies after `fn`'s effect and before the result is recorded
 * leaves it to run again (exactly once needs an effect that records itself).
 */
import { InvalidMessageError, InvalidOptionError, OnceInProgressError } from '../errors.js';
import { Script, type Transport } from '../transport/index.js';

/** Results larger than this are not remembered in Redis (a stranger's are not read). */
export const MAX_ONCE_RESULT_BYTES = 1024 * 1024;
const MAX_KEY_CHARS = 512;
/** Takeovers of a dead holder's mark before giving up (each one lost means another won). */
const MAX_ROUNDS = 4;

/**
 * KEYS[1] the mark. ARGV: [1] `running|<token>`, [2] ttl ms, [3] the value the
 * caller checked ('' at first), [4] the most bytes read back. Sets the mark
 * and returns nil when free (or still what the caller checked); else what it
 * holds, cut at ARGV[4] + 1 bytes.
 */
const BEGIN = new Script(`local held = redis.call('GET', KEYS[1])
if not held or held == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return string.sub(held, 1, tonumber(ARGV[4]) + 1)`);

/** KEYS[1] the mark; ARGV[1] `running|<token>`. Deletes the mark while it is ours. */
const ABANDON =
  new Script(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

export interface OnceParts {
  transport: Transport;
  /** The mark's key. */
  key: string;
  /** Who runs it: a claim token of this process. */
  token: string;
  ttlMs: number;
  isLive(token: string): Promise<boolean>;
}

export function assertOnceKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS) {
    throw new InvalidOptionError('once key', `must be a string of 1-${MAX_KEY_CHARS} characters`);
  }
}

export async function runOnce<T>(
  parts: OnceParts,
  shownKey: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  const { transport, key, token, ttlMs } = parts;
  const running = `running|${token}`;
  let checked = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const held = await BEGIN.run(
      transport,
      [key],
      [running, String(ttlMs), checked, String(MAX_ONCE_RESULT_BYTES + 5)],
    );
    if (held === null) return record(parts, running, fn);
    const text = Buffer.isBuffer(held) ? held.toString() : String(held);
    // What was remembered is what `fn` returned then, as JSON.
    if (text.startsWith('done:')) return parseResult(shownKey, text.slice(5)) as T;
    if (!text.startsWith('running|')) {
      throw new InvalidMessageError(
        'once-mark',
        `once("${shownKey}"): ${key} holds something else`,
      );
    }
    const holder = text.slice('running|'.length);
    if (holder !== token && (await parts.isLive(holder))) {
      throw new OnceInProgressError(shownKey, holder.slice(0, holder.lastIndexOf('|')));
    }
    checked = text;
  }
  throw new OnceInProgressError(shownKey, 'another consumer');
}

async function record<T>(parts: OnceParts, running: string, fn: () => T | Promise<T>): Promise<T> {
  const { transport, key, ttlMs } = parts;
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await ABANDON.run(transport, [key], [running]).catch(() => undefined);
    throw error;
  }
  const text = JSON.stringify(result === undefined ? null : result);
  // Too large to remember: the mark still says it ran.
  const stored = Buffer.byteLength(text) <= MAX_ONCE_RESULT_BYTES ? text : 'null';
  await transport.command(['SET', key, `done:${stored}`, 'PX', String(ttlMs)]);
  return result;
}

function parseResult(shownKey: string, text: string): unknown {
  if (Buffer.byteLength(text) > MAX_ONCE_RESULT_BYTES) {
    throw new InvalidMessageError(
      'once-mark',
      `once("${shownKey}"): the remembered result is too large`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidMessageError(
      'once-mark',
      `once("${shownKey}"): the remembered result is not JSON`,
    );
  }
}
