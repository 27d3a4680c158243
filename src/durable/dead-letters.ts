/**
 * The dead letters of a durable mailbox, `<ns>:dead:{<name>}`: messages
 * delivered `maxDeliveries` times without success, and entries no delivery
 * could handle. Listed (newest last), put back into the mailbox, or dropped.
 * Each holds the original payload (field `m`, absent when it was too large
 * to keep), the entry id it had (`entry`), the last error, the deliveries,
 * the consumer that failed and when (`at`, ms).
 */
import { Script, type Transport } from '../transport/index.js';
import type { DurableKeys } from './durable-keys.js';
import { MAX_WAKE_TOKENS } from './durable-scripts.js';

/** One dead letter as listed. */
export interface DeadLetter {
  /** Its id in the dead-letter stream (what `retry` and `drop` take). */
  id: string;
  /** The id it had in the mailbox. */
  entry: string;
  error: string;
  deliveries: number;
  consumer: string;
  /** When it was buried, ms since the epoch. */
  at: number;
  /** The message as stored (signed, when there is a secret); undefined when too large to keep. */
  payload: Buffer | undefined;
}

/** Most dead letters one call lists or moves. */
export const MAX_DEAD_LETTERS_PER_CALL = 1000;
/** Longest error text kept in a listing (a stranger's may be huge). */
const MAX_ERROR_CHARS = 2000;

/**
 * KEYS[1] dead letters, KEYS[2] stream, KEYS[3] wake list. ARGV[1] a dead
 * letter id, or '' for the oldest ARGV[2]. Appends their payloads to the
 * stream again (as new entries: delivery counts start over) and deletes them.
 * Returns how many went back; letters without a payload are left.
 */
const RETRY = new Script(`local letters
if ARGV[1] ~= '' then letters = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
else letters = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2]) end
local moved = 0
for _, letter in ipairs(letters) do
  local fields = letter[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'm' then
      redis.call('XADD', KEYS[2], '*', 'm', fields[i + 1])
      redis.call('XDEL', KEYS[1], letter[1])
      moved = moved + 1
      break
    end
  end
end
for i = 1, math.min(moved, ${MAX_WAKE_TOKENS} - redis.call('LLEN', KEYS[3])) do
  redis.call('LPUSH', KEYS[3], '1')
end
return moved`);

export class DeadLetters {
  constructor(
    private readonly transport: Transport,
    private readonly keys: DurableKeys,
  ) {}

  /** The oldest `count` dead letters. */
  async list(count = 100): Promise<DeadLetter[]> {
    const reply = await this.transport.command([
      'XRANGE',
      this.keys.dead,
      '-',
      '+',
      'COUNT',
      String(Math.min(Math.max(1, count), MAX_DEAD_LETTERS_PER_CALL)),
    ]);
    if (!Array.isArray(reply)) return [];
    return reply.flatMap((item) => {
      if (!Array.isArray(item) || !Array.isArray(item[1])) return [];
      const fields = item[1];
      const field = (name: string): Buffer | undefined => {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const value = fields[i + 1];
          if (String(fields[i]) === name && Buffer.isBuffer(value)) return value;
        }
        return undefined;
      };
      const text = (name: string): string => field(name)?.toString() ?? '';
      return [
        {
          id: String(item[0]),
          entry: text('entry'),
          error: text('error').slice(0, MAX_ERROR_CHARS),
          deliveries: Number(text('deliveries')) || 0,
          consumer: text('consumer').slice(0, 400),
          at: Number(text('at')) || 0,
          payload: field('m'),
        },
      ];
    });
  }

  /** How many dead letters there are. */
  async count(): Promise<number> {
    return Number(await this.transport.command(['XLEN', this.keys.dead]));
  }

  /** Puts one dead letter (by id) or the oldest ones (`'all'`, up to 1000 a call) back; how many went. */
  async retry(id: string): Promise<number> {
    const { dead, stream, wake } = this.keys;
    return Number(
      await RETRY.run(
        this.transport,
        [dead, stream, wake],
        [id === 'all' ? '' : id, String(MAX_DEAD_LETTERS_PER_CALL)],
      ),
    );
  }

  /** Deletes one dead letter (by id), or all of them; how many went. */
  async drop(id: string): Promise<number> {
    if (id === 'all') {
      const count = await this.count();
      await this.transport.command(['DEL', this.keys.dead]);
      return count;
    }
    return Number(await this.transport.command(['XDEL', this.keys.dead, id]));
  }
}
