/**
 * Batch ids, and which of one contributor's batches were counted.
 *
 * A pi worker numbers its batches `<its address>#<seq>`, seq 0, 1, 2, … for
 * the life of its process, and resends a batch whose send failed (a
 * `ConnectionError` says it may or may not have gone out) with the same id. So
 * the collector may receive an id twice, and must count it once.
 *
 * Per contributor, in bounded memory: every seq below `floor` counts as seen,
 * and `seen` holds the counted seqs at or above it, at most `size` of them. A
 * worker has one batch in flight at a time, so its seqs arrive in order, each
 * perhaps twice in a row; gaps come only from batches lost on the way (a full
 * mailbox drops a tell). A seq `size` or more above the floor moves the floor
 * up: the batches skipped then are never counted, even if they came late. At
 * most once, not at least once.
 */

/** Seqs remembered above the floor, per contributor: room for 64 batches lost or reordered. */
export const BATCH_WINDOW_SIZE = 64;

/** The largest seq: 15 digits, so that every seq is a safe integer. */
const SEQ_PATTERN = /^(0|[1-9]\d{0,14})$/;

/**
 * The seq of `id` when it is `<sender>#<seq>`, the form a worker sends as
 * `sender`; undefined for anything else (another address, not a string, …).
 */
export function batchSeq(id: unknown, sender: string): number | undefined {
  if (typeof id !== 'string' || id.length > sender.length + 16) return undefined;
  if (!id.startsWith(sender) || id.charAt(sender.length) !== '#') return undefined;
  const digits = id.slice(sender.length + 1);
  return SEQ_PATTERN.test(digits) ? Number(digits) : undefined;
}

/** One contributor's counted batches. */
export class BatchWindow {
  private floor = 0;
  private readonly seen = new Set<number>();

  constructor(private readonly size = BATCH_WINDOW_SIZE) {}

  /** Whether `seq` was counted already (or is below the window, which counts as the same). */
  has(seq: number): boolean {
    return seq < this.floor || this.seen.has(seq);
  }

  /** Records `seq` as counted; call only when {@link has} said false. */
  add(seq: number): void {
    this.seen.add(seq);
    if (seq >= this.floor + this.size) {
      this.floor = seq - this.size + 1;
      for (const each of this.seen) if (each < this.floor) this.seen.delete(each);
    }
    while (this.seen.delete(this.floor)) this.floor++;
  }

  /** Seqs remembered above the floor (for tests: never more than the window's size). */
  get remembered(): number {
    return this.seen.size;
  }
}
