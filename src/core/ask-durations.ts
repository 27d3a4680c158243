/**
 * How long this process's asks took, from sending to their settlement (a
 * reply, an error, or the timeout), as a Prometheus-style histogram with
 * fixed buckets: a fixed cost per ask and a fixed size whatever the traffic.
 */

/** Upper bounds of the buckets, in seconds: 100 µs to 30 s. */
export const ASK_DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  30,
];

/** A copy of the histogram: counts per bucket (not cumulative; the last is +Inf), sum and count. */
export interface HistogramSnapshot {
  /** Upper bounds in seconds, one per count but the last (+Inf). */
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

export class AskDurations {
  private readonly counts = new Array<number>(ASK_DURATION_BUCKETS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    let bucket = 0;
    while (bucket < ASK_DURATION_BUCKETS.length && seconds > (ASK_DURATION_BUCKETS[bucket] ?? 0))
      bucket++;
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.sum += seconds;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    return {
      bounds: [...ASK_DURATION_BUCKETS],
      counts: [...this.counts],
      sum: this.sum,
      count: this.count,
    };
  }
}
