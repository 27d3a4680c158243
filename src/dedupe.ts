/**
 * Drops duplicate messages (e.g. a publish a client resent after a
 * reconnect) by envelope id.
 *
 * Framework senders number their messages: `<sender nonce>.<counter base 36>`,
 * and one sender's messages reach a receiver in the order they were sent (one
 * publishing connection, one subscribing connection). So for those ids a
 * high-water mark per sender suffices: a counter not above the highest seen is
 * a repeat, whatever its age. Other ids (foreign clients) are remembered in two
 * generations that rotate every `windowMs`, or sooner when one holds
 * `maxEntries / 2` ids, so memory stays bounded under any load.
 */

/** Most senders whose high-water mark is kept; the oldest entry is forgotten beyond it. */
const MAX_SENDERS = 10_000;
const FRAMEWORK_ID = /^[\w-]{12}\.[0-9a-z]{1,11}$/;

export class RecentIds {
  private readonly highestBySender = new Map<string, number>();
  private current = new Set<string>();
  private previous = new Set<string>();
  private generationStart: number;
  private readonly generationSize: number;

  constructor(
    private readonly windowMs: number,
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.generationStart = now();
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Records `id`; returns false when it was seen already. */
  firstSighting(id: string): boolean {
    if (id.length <= 24 && FRAMEWORK_ID.test(id)) {
      const dot = id.indexOf('.');
      const sender = id.slice(0, dot);
      const counter = parseInt(id.slice(dot + 1), 36);
      const highest = this.highestBySender.get(sender);
      if (highest !== undefined && counter <= highest) return false;
      if (highest === undefined && this.highestBySender.size >= MAX_SENDERS) {
        const oldest = this.highestBySender.keys().next();
        if (oldest.done !== true) this.highestBySender.delete(oldest.value);
      }
      this.highestBySender.set(sender, counter);
      return true;
    }
    if (this.current.has(id) || this.previous.has(id)) return false;
    if (
      this.current.size >= this.generationSize ||
      this.now() - this.generationStart >= this.windowMs
    ) {
      this.previous = this.current;
      this.current = new Set();
      this.generationStart = this.now();
    }
    this.current.add(id);
    return true;
  }
}

/** Makes ids `<nonce>.<counter>` for one sender, the form {@link RecentIds} tracks cheaply. */
export class MessageIds {
  private counter = 0;

  constructor(private readonly nonce: string) {
    if (!/^[\w-]{12}$/.test(nonce))
      throw new Error('a sender nonce is 12 characters of [A-Za-z0-9_-]');
  }

  next(): string {
    return `${this.nonce}.${(this.counter++).toString(36)}`;
  }
}
