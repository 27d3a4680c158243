/**
 * The sending side of durable mailboxes: appends a message to the stream of
 * a name whose durable mailbox exists (its settings hash says so; the script
 * checks it and the capacity atomically with the XADD). Senders need not
 * know which names are durable: a tell or ask that reached no subscriber
 * tries the durable mailbox of its name, and names found durable are
 * remembered, so that later messages go there at once.
 */
import type { CommandArgument, Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import { type DurableKeys, durableKeys } from './durable-keys.js';
import { APPEND } from './durable-scripts.js';

/** Names remembered as durable (a bound: anyone may make names durable). */
const MAX_KNOWN = 4096;

/** What became of an append. */
export type AppendOutcome =
  | { kind: 'appended'; entryId: string }
  | { kind: 'not-durable' }
  | { kind: 'full'; capacity: number; overflow: 'reject' | 'drop' };

export type AppendCallback = (error: Error | null, outcome: AppendOutcome) => void;

export class DurableSender {
  private readonly known = new Map<string, DurableKeys>();

  constructor(
    private readonly transport: Transport,
    private readonly names: Names,
  ) {}

  /** Whether `name` was found durable lately (its messages go to the stream first). */
  isKnown(name: string): boolean {
    return this.known.has(name);
  }

  /** Appends `payload` (signed already, when there is a secret) to the durable mailbox of `name`. */
  append(name: string, payload: CommandArgument, callback: AppendCallback): void {
    let keys = this.known.get(name);
    keys ??= durableKeys(this.names, name);
    APPEND.send(
      this.transport,
      [keys.config, keys.stream, keys.wake],
      [payload],
      (error, reply) => {
        if (error !== null) {
          callback(error, { kind: 'not-durable' });
          return;
        }
        if (reply === null) {
          this.known.delete(name);
          callback(null, { kind: 'not-durable' });
          return;
        }
        this.remember(name, keys);
        if (Array.isArray(reply)) {
          const [policy, capacity] = reply;
          callback(null, {
            kind: 'full',
            capacity: Number(String(capacity)),
            overflow: String(policy) === 'drop' ? 'drop' : 'reject',
          });
          return;
        }
        callback(null, { kind: 'appended', entryId: String(reply) });
      },
    );
  }

  private remember(name: string, keys: DurableKeys): void {
    if (this.known.has(name)) return;
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    this.known.set(name, keys);
  }
}
