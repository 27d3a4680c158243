/**
 * Erlang/OTP restart intensity: at most `intensity` restarts within any
 * `periodMs` window. One more means the failure is not transient, and the
 * supervisor must give up instead of restarting in a loop.
 */
export class RestartIntensity {
  private readonly restarts: number[] = [];

  constructor(
    readonly intensity: number,
    readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a restart; false when it exceeds the intensity. */
  allow(): boolean {
    const now = this.now();
    while (this.restarts.length > 0 && (this.restarts[0] ?? 0) <= now - this.periodMs)
      this.restarts.shift();
    this.restarts.push(now);
    return this.restarts.length <= this.intensity;
  }

  /** Restarts counted in the current window. */
  get recent(): number {
    return this.restarts.length;
  }
}
