/**
 * Rates from counters: each round, the growth of a counter since the round
 * before, per second. Counters are per source (an actor, a process, a
 * process's type), so that a source missing from a round, or restarted with
 * its counters at zero, reads as no traffic rather than as a negative rate.
 */
import { DASHBOARD_LIMITS, type RateSeries } from './snapshot.js';

/** Most message types kept in the history; the quietest goes first. */
const MAX_TYPES = 64;

export class CounterRates {
  private previous = new Map<string, number>();
  private current = new Map<string, number>();

  /** Starts a round. */
  begin(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** The per-second growth of counter `key` since the previous round (0 when new or reset). */
  rate(key: string, value: number, seconds: number): number {
    this.current.set(key, value);
    const before = this.previous.get(key);
    if (before === undefined || value < before || seconds <= 0) return 0;
    return (value - before) / seconds;
  }
}

/** Messages per second by type, over the last rounds. */
export class TypeRateHistory {
  private readonly times: number[] = [];
  private readonly series = new Map<string, number[]>();

  /** Adds a round's rates by type. */
  add(at: number, rates: ReadonlyMap<string, number>): void {
    this.times.push(at);
    const length = this.times.length;
    for (const [type, perSec] of rates) {
      let values = this.series.get(type);
      if (values === undefined) {
        if (this.series.size >= MAX_TYPES) this.dropQuietest();
        values = new Array<number>(length - 1).fill(0);
        this.series.set(type, values);
      }
      values.push(perSec);
    }
    for (const values of this.series.values()) if (values.length < length) values.push(0);
    if (length > DASHBOARD_LIMITS.ratePoints) {
      this.times.shift();
      for (const values of this.series.values()) values.shift();
    }
    // A type silent for the whole window is forgotten.
    for (const [type, values] of this.series)
      if (values.every((v) => v === 0)) this.series.delete(type);
  }

  rateTimes(): number[] {
    return [...this.times];
  }

  /** The busiest types over the window. */
  busiest(): RateSeries[] {
    return [...this.series]
      .map(([type, perSec]) => ({
        type,
        perSec: [...perSec],
        total: perSec.reduce((a, b) => a + b, 0),
      }))
      .sort((a, b) => b.total - a.total)
      .slice(0, DASHBOARD_LIMITS.rateSeries)
      .map(({ type, perSec }) => ({ type, perSec }));
  }

  private dropQuietest(): void {
    let quietest: string | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const [type, values] of this.series) {
      const total = values.reduce((a, b) => a + b, 0);
      if (total < least) [quietest, least] = [type, total];
    }
    if (quietest !== undefined) this.series.delete(quietest);
  }
}
