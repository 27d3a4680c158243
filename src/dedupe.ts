/**
 * Remembers recently seen message ids so a duplicate (e.g. a command resent
 * after a reconnect) is processed once. Two generations of ids rotate every
 * `windowMs`, or sooner when one holds `maxEntries / 2` ids, so memory stays
 * bounded under any load: an id is remembered for `windowMs`, or for the last
 * `maxEntries / 2` messages at least, whichever is shorter.
 */
export class RecentIds {
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

  /** Records `id`; returns false when it was already seen within the window. */
  firstSighting(id: string): boolean {
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

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
