/** Records how each ask settled and how late against its own deadline. */
export interface Settlement {
  outcome: string;
  /** Milliseconds after the ask's deadline (negative: before it). */
  lateMs: number;
  error: unknown;
}

/** Calls `ask` now and records its settlement against `timeoutMs` from now. */
export function timed(ask: () => Promise<unknown>, timeoutMs: number): Promise<Settlement> {
  const deadline = Date.now() + timeoutMs;
  return ask().then(
    () => ({ outcome: 'resolved', lateMs: Date.now() - deadline, error: undefined }),
    (error: unknown) => ({
      outcome: (error as Error).name,
      lateMs: Date.now() - deadline,
      error,
    }),
  );
}

/** Outcome name → count. */
export function tally(settlements: readonly Settlement[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { outcome } of settlements) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

/** Resolves after `ms`: a fault's schedule (how long Redis stays away), never a synchronisation. */
export function faultDuration(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
