/**
 * The totals of a durable pi collector (`pi-collector.ts --durable`), kept in
 * Redis so that a collector restarted after a crash continues from them. Its
 * mailbox is durable too, so a batch may be delivered again (same message id)
 * when the collector died while handling it, even after it was counted: a
 * batch is counted by one script that records its key in the run's set of
 * counted batches and adds its samples only if the key was new. Counting and
 * recording cannot be separated by a crash, so every batch counts once.
 *
 * Keys of run `<run>` (all with the hash tag `{<run>}`: one Redis Cluster
 * slot, so that one script may touch them):
 *
 * - `<ns>:pi:{<run>}:totals`, a hash: `inside`, `total`, `duplicates`,
 *   `firstAt` and `doneAt` (ms since the epoch), `target` (JSON);
 * - `<ns>:pi:{<run>}:credit`, a hash: contributor address → samples;
 * - `<ns>:pi:{<run>}:seen`, a set: `b:<batch id>` per counted batch, or
 *   `m:<sender>/<message id>` for a batch without an id.
 *
 * The set grows by one member per counted batch (counting stops once the
 * target is reached); every write sets all three keys to expire a day later,
 * so a run's keys go a day after its last batch.
 */
import { createHash } from 'node:crypto';
import { RedisReplyError, type ActorSystem, type RespValue } from 'redis-actors';
import type { PiTarget } from './pi-collector.js';

/** A run's keys live this long after its last write. */
export const RUN_TTL_SECONDS = 24 * 60 * 60;

/** A run id is part of Redis keys: a short plain word, no hash-tag braces or ':'. */
const RUN_PATTERN = /^[\w.-]{1,64}$/;
export const RUN_ID_RULE = "1-64 letters, digits, '_', '.' or '-'";

export function isRunId(run: string): boolean {
  return RUN_PATTERN.test(run);
}

/**
 * KEYS[1] totals, KEYS[2] credit, KEYS[3] seen. ARGV: [1] the batch's key in
 * the set, [2] contributor, [3] inside, [4] total, [5] now (ms), [6] ttl (s).
 * Returns {counted (1|0), inside, total, duplicates, firstAt, the contributor's samples}.
 */
const COUNT_SOURCE = `
local counted = redis.call('SADD', KEYS[3], ARGV[1]) == 1
if counted then
  redis.call('HINCRBY', KEYS[1], 'inside', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'total', ARGV[4])
  redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[4])
  redis.call('HSETNX', KEYS[1], 'firstAt', ARGV[5])
else
  redis.call('HINCRBY', KEYS[1], 'duplicates', 1)
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
local t = redis.call('HMGET', KEYS[1], 'inside', 'total', 'duplicates', 'firstAt')
return {counted and 1 or 0, t[1] or '0', t[2] or '0', t[3] or '0', t[4] or '',
  redis.call('HGET', KEYS[2], ARGV[2]) or '0'}`;
const COUNT_SHA = createHash('sha1').update(COUNT_SOURCE).digest('hex');

/** What a run has stored. */
export interface StoredTotals {
  inside: number;
  total: number;
  duplicates: number;
  firstAt: number | undefined;
  doneAt: number | undefined;
  /** As stored: the collector checks it like any target it is told. */
  target: unknown;
  contributions: Map<string, number>;
}

/** What counting a batch did, and the totals after it. */
export interface CountResult {
  counted: boolean;
  inside: number;
  total: number;
  duplicates: number;
  firstAt: number;
  /** The contributor's samples after this batch. */
  credited: number;
}

export interface RunKeys {
  totals: string;
  credit: string;
  seen: string;
}

/** Thrown when Redis answers something that is not what the scripts write. */
export class StoredTotalsError extends Error {
  override readonly name = 'StoredTotalsError';
}

/** The keys of `run` in `system`'s namespace; throws RangeError for an unusable run id. */
export function runKeys(system: ActorSystem, run: string): RunKeys {
  if (!isRunId(run)) throw new RangeError(`a run id is ${RUN_ID_RULE}, got ${run}`);
  const tag = `{${run}}`;
  return {
    totals: system.key('pi', tag, 'totals'),
    credit: system.key('pi', tag, 'credit'),
    seen: system.key('pi', tag, 'seen'),
  };
}

const text = (value: RespValue | undefined): string =>
  Buffer.isBuffer(value) || typeof value === 'string' || typeof value === 'number'
    ? String(value)
    : '';

function integer(value: RespValue | undefined, what: string): number {
  const parsed = Number(text(value));
  if (!Number.isSafeInteger(parsed)) throw new StoredTotalsError(`${what} is not an integer`);
  return parsed;
}

/** A hash's fields from an HGETALL reply. */
function fields(reply: RespValue): Map<string, RespValue> {
  if (!Array.isArray(reply)) throw new StoredTotalsError('HGETALL did not answer a list');
  const map = new Map<string, RespValue>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(text(reply[i]), reply[i + 1] ?? null);
  return map;
}

function optionalTime(value: RespValue | undefined): number | undefined {
  const parsed = Number(text(value));
  return text(value) !== '' && Number.isSafeInteger(parsed) ? parsed : undefined;
}

/** One run's totals in Redis. Each method's commands leave together: one round trip (count: two when the script must be loaded). */
export class DurableTotals {
  readonly keys: RunKeys;

  constructor(
    private readonly system: ActorSystem,
    run: string,
  ) {
    this.keys = runKeys(system, run);
  }

  async load(): Promise<StoredTotals> {
    const [totals, credit] = await Promise.all([
      this.system.command(['HGETALL', this.keys.totals]).then(fields),
      this.system.command(['HGETALL', this.keys.credit]).then(fields),
    ]);
    let target: unknown = {};
    const targetText = text(totals.get('target'));
    if (targetText !== '') {
      try {
        target = JSON.parse(targetText);
      } catch {
        target = undefined; // refused by the collector's check, like a bad `target` message
      }
    }
    const contributions = new Map<string, number>();
    for (const [address, samples] of credit) contributions.set(address, integer(samples, address));
    return {
      inside: integer(totals.get('inside') ?? '0', 'inside'),
      total: integer(totals.get('total') ?? '0', 'total'),
      duplicates: integer(totals.get('duplicates') ?? '0', 'duplicates'),
      firstAt: optionalTime(totals.get('firstAt')),
      doneAt: optionalTime(totals.get('doneAt')),
      target,
      contributions,
    };
  }

  /** Counts a batch unless `batchKey` was counted already in this run. */
  async count(
    batchKey: string,
    contributor: string,
    counts: { inside: number; total: number },
    now: number,
  ): Promise<CountResult> {
    const rest = [
      '3',
      this.keys.totals,
      this.keys.credit,
      this.keys.seen,
      batchKey,
      contributor,
      String(counts.inside),
      String(counts.total),
      String(now),
      String(RUN_TTL_SECONDS),
    ];
    let reply: RespValue;
    try {
      reply = await this.system.command(['EVALSHA', COUNT_SHA, ...rest]);
    } catch (error) {
      // Not in the server's script cache (first use, a restarted Redis): sent whole once.
      if (!(error instanceof RedisReplyError && error.message.startsWith('NOSCRIPT'))) throw error;
      reply = await this.system.command(['EVAL', COUNT_SOURCE, ...rest]);
    }
    if (!Array.isArray(reply) || reply.length !== 6)
      throw new StoredTotalsError('the count script answered something else');
    return {
      counted: reply[0] === 1,
      inside: integer(reply[1], 'inside'),
      total: integer(reply[2], 'total'),
      duplicates: integer(reply[3], 'duplicates'),
      firstAt: integer(reply[4], 'firstAt'),
      credited: integer(reply[5], 'credited'),
    };
  }

  async saveTarget(target: PiTarget): Promise<void> {
    await this.setAndExpire(['HSET', this.keys.totals, 'target', JSON.stringify(target)]);
  }

  /** Records when the target was reached, unless a collector before this one did: returns the time kept. */
  async markDone(at: number): Promise<number> {
    // Sent in one turn: one connection runs them in this order.
    const [, kept] = await Promise.all([
      this.setAndExpire(['HSETNX', this.keys.totals, 'doneAt', String(at)]),
      this.system.command(['HGET', this.keys.totals, 'doneAt']),
    ]);
    return integer(kept, 'doneAt');
  }

  private async setAndExpire(command: string[]): Promise<void> {
    await Promise.all([
      this.system.command(command),
      this.system.command(['EXPIRE', this.keys.totals, String(RUN_TTL_SECONDS)]),
    ]);
  }
}
