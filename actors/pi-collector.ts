/**
 * The pi collector. Workers (and volunteers, unasked) tell it `samples
 * { inside, total }` after each batch; it keeps the totals per contributor,
 * the estimate of π and its standard error, and the recent rate. `target
 * { precision?, samples? }` sets when the computation is done; then every
 * contributor is told `done` with the final summary. `status` answers the
 * current state. Each batch is one message, so a worker killed mid-batch
 * loses only that batch and the totals stay consistent.
 */
import {
  InvalidMessageError,
  defineActor,
  runActor,
  type ActorLifecycleContext,
} from 'redis-actors';
import { type SampleCounts, estimatePi } from './monte-carlo.js';

export interface PiTarget {
  /** Done once the standard error is at most this. */
  precision?: number;
  /** Done once this many samples were counted. */
  samples?: number;
}

export interface PiStatus {
  samples: number;
  inside: number;
  estimate: number;
  standardError: number;
  /** Samples per second over the last few seconds. */
  samplesPerSecond: number;
  /** Time since the first batch arrived. */
  elapsedMs: number;
  contributors: number;
  contributions: { address: string; samples: number }[];
  target: PiTarget;
  done: boolean;
}

/** Largest batch accepted: a bigger one is a bug or an attack, not work. */
const MAX_BATCH = 1e10;
const RATE_WINDOW_MS = 3000;

let inside = 0;
let total = 0;
let firstAt: number | undefined;
let target: PiTarget = {};
let done = false;
let doneAt: number | undefined;
const contributions = new Map<string, number>();
/** (time, total) checkpoints for the rate. */
const checkpoints: [number, number][] = [];
let self: ActorLifecycleContext | undefined;

function reached(): boolean {
  const { standardError } = estimatePi(inside, total);
  return (
    (target.precision !== undefined && total > 0 && standardError <= target.precision) ||
    (target.samples !== undefined && total >= target.samples)
  );
}

function status(): PiStatus {
  const now = doneAt ?? Date.now();
  while (checkpoints.length > 1 && (checkpoints[1]?.[0] ?? now) <= now - RATE_WINDOW_MS)
    checkpoints.shift();
  const [since, samplesThen] = checkpoints[0] ?? [now, total];
  return {
    samples: total,
    inside,
    ...estimatePi(inside, total),
    samplesPerSecond: now > since ? ((total - samplesThen) * 1000) / (now - since) : 0,
    elapsedMs: firstAt === undefined ? 0 : now - firstAt,
    contributors: contributions.size,
    contributions: [...contributions].map(([address, samples]) => ({ address, samples })),
    target,
    done,
  };
}

function finish(): void {
  done = true;
  doneAt = Date.now();
  const summary = status();
  for (const address of contributions.keys()) {
    // A contributor that already left cannot be told; that is fine.
    self?.tell(address, 'done', summary).catch(() => undefined);
  }
}

function validCounts(counts: SampleCounts): boolean {
  return (
    typeof counts === 'object' &&
    Number.isSafeInteger(counts.inside) &&
    Number.isSafeInteger(counts.total) &&
    counts.inside >= 0 &&
    counts.inside <= counts.total &&
    counts.total > 0 &&
    counts.total <= MAX_BATCH
  );
}

export const piCollector = defineActor({
  onStart: (context) => {
    self = context;
  },
  handlers: {
    samples: (counts: SampleCounts, context): void => {
      if (!validCounts(counts)) {
        throw new InvalidMessageError(
          'bad-samples',
          `samples needs integers 0 <= inside <= total <= ${MAX_BATCH}`,
        );
      }
      if (done) return;
      const now = Date.now();
      firstAt ??= now;
      if (checkpoints.length === 0) checkpoints.push([now, total]);
      inside += counts.inside;
      total += counts.total;
      contributions.set(context.sender, (contributions.get(context.sender) ?? 0) + counts.total);
      const last = checkpoints[checkpoints.length - 1];
      if (last === undefined || now - last[0] >= 250) checkpoints.push([now, total]);
      if (reached()) finish();
    },
    status: (): PiStatus => status(),
    target: (next: PiTarget): PiStatus => {
      const valid = (value: number | undefined) =>
        value === undefined || (Number.isFinite(value) && value > 0);
      if (typeof next !== 'object' || !valid(next.precision) || !valid(next.samples)) {
        throw new InvalidMessageError(
          'bad-target',
          'target needs { precision?: number > 0, samples?: number > 0 }',
        );
      }
      target = { ...next };
      if (!done && reached()) finish();
      return status();
    },
  },
});

await runActor(piCollector);
