/**
 * The sending side of durable mailboxes: appends messages to the stream of a
 * name whose durable mailbox exists (its settings hash says so; the script
 * checks it and the capacity atomically with the XADDs). The messages of one
 * event-loop turn to one name go in one script call, as a turn's publishes
 * go in one socket write. Senders need not know which names are durable: a
 * tell or ask that reached no subscriber tries the durable mailbox of its
 * name, and names found durable are remembered, so that later messages go
 * there at once.
 */
import type { CommandArgument, Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import { type DurableKeys, durableKeys } from './durable-keys.js';
import { APPEND } from './durable-scripts.js';

/** Names remembered as durable (a bound: anyone may make names durable). */
const MAX_KNOWN = 4096;
/** Most payloads, and bytes, one script call appends (more go in the next call). */
const MAX_BATCH_PAYLOADS = 512;
const MAX_BATCH_BYTES = 1024 * 1024;

/** What became of an append. */
export type AppendOutcome =
  | { kind: 'appended'; entryId: string }
  | { kind: 'not-durable' }
  | { kind: 'full'; capacity: number; overflow: 'reject' | 'drop' };

export type AppendCallback = (error: Error | null, outcome: AppendOutcome) => void;

/** The appends to one name waiting for the end of this turn. */
interface Batch {
  keys: DurableKeys;
  payloads: CommandArgument[];
  callbacks: AppendCallback[];
  bytes: number;
}

const NOT_DURABLE: AppendOutcome = { kind: 'not-durable' };

export class DurableSender {
  private readonly known = new Map<string, DurableKeys>();
  private batches = new Map<string, Batch>();
  private flushScheduled = false;

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
    let batch = this.batches.get(name);
    const bytes = sizeOf(payload);
    if (
      batch !== undefined &&
      (batch.payloads.length >= MAX_BATCH_PAYLOADS || batch.bytes + bytes > MAX_BATCH_BYTES)
    ) {
      this.send(name, batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = {
        keys: this.known.get(name) ?? durableKeys(this.names, name),
        payloads: [],
        callbacks: [],
        bytes: 0,
      };
      this.batches.set(name, batch);
    }
    batch.payloads.push(payload);
    batch.callbacks.push(callback);
    batch.bytes += bytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const [name, batch] of batches) this.send(name, batch);
  };

  private send(name: string, batch: Batch): void {
    if (this.batches.get(name) === batch) this.batches.delete(name);
    const { keys, payloads, callbacks } = batch;
    APPEND.send(this.transport, [keys.config, keys.stream, keys.wake], payloads, (error, reply) => {
      if (error !== null) {
        for (const callback of callbacks) callback(error, NOT_DURABLE);
        return;
      }
      if (!Array.isArray(reply)) {
        this.known.delete(name);
        for (const callback of callbacks) callback(null, NOT_DURABLE);
        return;
      }
      this.remember(name, keys);
      const [policy, capacity, ids] = reply;
      const full: AppendOutcome = {
        kind: 'full',
        capacity: Number(String(capacity)),
        overflow: String(policy) === 'drop' ? 'drop' : 'reject',
      };
      callbacks.forEach((callback, i) => {
        const id = Array.isArray(ids) ? ids[i] : undefined;
        callback(null, Buffer.isBuffer(id) ? { kind: 'appended', entryId: id.toString() } : full);
      });
    });
  }

  private remember(name: string, keys: DurableKeys): void {
    if (this.known.has(name)) return;
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    this.known.set(name, keys);
  }
}

function sizeOf(payload: CommandArgument): number {
  if (typeof payload === 'string') return payload.length;
  if (Buffer.isBuffer(payload)) return payload.length;
  return payload.reduce((sum, chunk) => sum + chunk.length, 0);
}
