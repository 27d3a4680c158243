/**
 * Keeps messages in arrival order while one of them is fetched (a claimed
 * message): later arrivals wait until it is dispatched. Costs a flag test
 * when nothing is being fetched.
 */
export class ArrivalOrder {
  private readonly held: (() => void)[] = [];
  private waiting = false;

  /** True while a fetch is under way or arrivals wait behind one. */
  get busy(): boolean {
    return this.waiting || this.held.length > 0;
  }

  /** Runs `step` once everything that arrived before it has been dispatched. */
  hold(step: () => void): void {
    this.held.push(step);
  }

  /** Holds later arrivals until `fetched` settles. */
  waitFor(fetched: Promise<void>): void {
    this.waiting = true;
    void fetched.finally(() => {
      this.waiting = false;
      this.drain();
    });
  }

  private drain(): void {
    while (!this.waiting) {
      const step = this.held.shift();
      if (step === undefined) return;
      step();
    }
  }
}
