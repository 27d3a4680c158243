/**
 * The traffic shapes every contender runs, so that they do the same work:
 * the request body, its check, and the measurement loops driven by a
 * contender-specific `ask` / `tell`.
 */

/** The small request body of the ask and tell benchmarks. */
export function requestBody(i: number): { i: number; s: string } {
  return { i, s: 'hello, actor' };
}

/** Asks answered with the wrong body: the bench must not report speed for wrong work. */
export class Verifier {
  mismatches = 0;
  check(sent: number, reply: unknown): void {
    if ((reply as { i?: unknown } | null)?.i !== sent) this.mismatches++;
  }
}

export type Ask = (body: { i: number; s: string }) => Promise<unknown>;

/** Sequential asks after a warm-up; returns latency percentiles in microseconds. */
export async function measureLatency(ask: Ask, count: number, warmup: number) {
  const verifier = new Verifier();
  for (let i = 0; i < warmup; i++) verifier.check(i, await ask(requestBody(i)));
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    verifier.check(i, await ask(requestBody(i)));
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(count - 1, Math.floor(q * count))] ?? 0;
  return { p50Us: at(0.5), p99Us: at(0.99), count, mismatches: verifier.mismatches };
}

let asksCompleted = 0;
/** Asks this process completed in throughput loops so far (the count of its CPU samples). */
export const asksCompletedSoFar = () => asksCompleted;

/**
 * `inflight` concurrent ask loops; asks completed per second over `durationMs`
 * after a warm-up. The load goes on `tailMs` longer, so that the last CPU
 * samples the orchestrator takes of every process still fall inside it.
 */
export async function measureThroughput(
  ask: Ask,
  inflight: number,
  durationMs: number,
  warmupMs: number,
  tailMs = 0,
) {
  const verifier = new Verifier();
  let completed = 0;
  let next = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      const i = next++;
      verifier.check(i, await ask(requestBody(i)));
      completed++;
      asksCompleted++;
    }
  };
  const loops = Array.from({ length: inflight }, loop);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const from = completed;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const perSecond = ((completed - from) * 1000) / (performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, tailMs));
  running = false;
  await Promise.all(loops);
  return { perSecond, mismatches: verifier.mismatches };
}

/** A requester's `latency` and `throughput` commands, for any way of asking. */
export function askCommands(ask: Ask) {
  return {
    latency: ({ count, warmup }: { count: number; warmup: number }) =>
      measureLatency(ask, count, warmup),
    throughput: ({
      inflight,
      durationMs,
      warmupMs,
      tailMs,
    }: {
      inflight: number;
      durationMs: number;
      warmupMs: number;
      tailMs?: number;
    }) => measureThroughput(ask, inflight, durationMs, warmupMs, tailMs),
  };
}

/**
 * One-way messages as fast as the sender can go, with at most `window`
 * unacknowledged sends (so memory stays bounded); stops after `durationMs`.
 */
export async function sendOneWay(
  send: (i: number) => Promise<unknown>,
  window: number,
  durationMs: number,
) {
  let sent = 0;
  let failed = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        await send(sent++);
      } catch {
        failed++;
      }
    }
  };
  const loops = Array.from({ length: window }, loop);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  running = false;
  await Promise.all(loops);
  return { sent, failed };
}
