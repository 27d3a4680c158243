/**
 * The pi collector. Workers (and volunteers, unasked) tell it `samples
 * { inside, total, id }` after each batch; it keeps the totals per contributor,
 * the estimate of π and its standard error, and the recent rate. `target
 * { precision?, samples? }` sets when the computation is done; then every
 * contributor is told `done` with a compact summary and what it was credited
 * (told again, once, if it sends another batch: a `done` can be lost on the
 * way). `status` answers the current state. Each batch is one message, so a
 * worker killed mid-batch loses only that batch and the totals stay
 * consistent.
 *
 * A batch may carry an id, `<sender address>#<seq>` (workers number theirs,
 * and resend a batch whose send failed with the same id): an id is counted at
 * most once (see batch-window.ts); a repeat is only counted in
 * `status().duplicates`. Whoever can forge a contributor's address (no
 * namespace secret) can also send its coming ids first, so that its genuine
 * batches are taken for repeats.
 *
 * Anyone who can publish on the Redis can send it samples under any address,
 * so a batch is refused (counted in `status().refused`, an ask answered with
 * InvalidMessageError) when it is
 *
 * - `bad-samples`: not integers 0 <= inside <= total, total > 0;
 * - `bad-batch-id`: an `id` that is not `<sender address>#<seq>`, seq an
 *   integer of at most 15 digits;
 * - `too-large`: more than `--max-batch` samples (default 2^30, 512 times the
 *   workers' default batch);
 * - `too-many-contributors`: from a new address once `--max-contributors`
 *   (default 1,000) addresses have contributed;
 * - `implausible`: once 10^7 samples are counted, a batch whose ratio
 *   inside/total is more than 6 standard errors √(p(1−p)/batch) from the
 *   running estimate p; a genuine batch of the default size is that far
 *   fewer than once in 10^7 batches. The error is the batch's alone, so that a
 *   huge forged batch may move the estimate by little; the price is that a
 *   batch much larger than what is counted may be refused for the
 *   estimate's own error. Until 10^7 the first samples are the reference, so
 *   whoever sends them decides what is plausible; a poisoned start then
 *   shows as every worker's batch being refused, not as a wrong result.
 *
 * With `--durable` (its mailbox must be durable too: `npm run pi -- --durable`
 * gives it both) the totals, the target and the start and end times live in
 * Redis under the run id `--run` (see pi-totals.ts), each batch counted by
 * one script that also records it: a collector restarted after a crash
 * continues from them, and a batch delivered again because the collector died
 * while handling it, even after counting it, counts once. A batch without an
 * id is then recognised by its message id. Refusals, `afterDone` and the rate
 * are this process's own, since its start. Without `--durable` everything is
 * in memory, as above.
 *
 *   node --import tsx actors/pi-collector.ts [--max-batch 1073741824] [--max-contributors 1000]
 *     [--durable [--run default]]
 */
import { parseArgs } from 'node:util';
import {
  InvalidMessageError,
  defineActor,
  runActor,
  type ActorLifecycleContext,
  type HandlerContext,
} from 'redis-actors';
import { BatchWindow, batchSeq } from './batch-window.js';
import { type SampleCounts, estimatePi } from './monte-carlo.js';
import { DurableTotals, type StoredTotals, RUN_ID_RULE, isRunId } from './pi-totals.js';
import { Refusals } from './refusals.js';

export interface PiTarget {
  /** Done once the standard error is at most this. */
  precision?: number;
  /** Done once this many samples were counted. */
  samples?: number;
}

export type RefusalReason =
  'bad-samples' | 'bad-batch-id' | 'too-large' | 'too-many-contributors' | 'implausible';

/** The body of `samples`: one batch's counts, and its id when the sender numbers its batches. */
export interface PiBatch extends SampleCounts {
  /** `<sender address>#<seq>`: counted at most once. */
  id?: string;
}

/** The body of `done`: the same for every contributor, and small whatever their number. */
export interface PiSummary {
  samples: number;
  inside: number;
  estimate: number;
  standardError: number;
  /** Time since the first batch arrived (until done). */
  elapsedMs: number;
  contributors: number;
}

/** The body of `done`: the summary, and the samples credited to the contributor told. */
export interface PiDone extends PiSummary {
  credited: number;
}

export interface PiStatus extends PiSummary {
  /** Samples per second over the last few seconds. */
  samplesPerSecond: number;
  /** Samples counted per address; at most `limits.maxContributors` entries. */
  contributions: { address: string; samples: number }[];
  target: PiTarget;
  done: boolean;
  /** Batches refused, by reason. */
  refused: Record<RefusalReason, number>;
  /** Batches not counted because their id was counted already. */
  duplicates: number;
  /** Batches that came once the computation was done, not counted. */
  afterDone: number;
  limits: { maxBatch: number; maxContributors: number };
  /** Progress of telling contributors `done`. */
  doneFanOut: { told: number; unreachable: number; pending: number };
}

/** What the collector publishes on the topic `pi.progress` (see the end of this file). */
export interface PiProgress {
  samples: number;
  estimate: number;
  standardError: number;
  contributors: number;
  done: boolean;
}

/** 512 times a worker's default batch (2^21): room for big volunteers, none for a 10^10 lie. */
const DEFAULT_MAX_BATCH = 2 ** 30;
const DEFAULT_MAX_CONTRIBUTORS = 1000;
/** Fewer samples than this make too rough a reference to judge a batch by. */
const PLAUSIBILITY_MIN_SAMPLES = 1e7;
const PLAUSIBILITY_STANDARD_ERRORS = 6;
/** `done` goes out this many at a time, each group awaited: memory stays flat. */
const DONE_GROUP_SIZE = 20;
const RATE_WINDOW_MS = 3000;

/** Options from the command line; parsed before the actor starts, so no message sees defaults. */
function readOptions(): { limits: PiStatus['limits']; durable: boolean; run: string } {
  const { values } = parseArgs({
    // The supervisor's own flags (`--redis-actors-…=`) are not ours; runActor removes them later.
    args: process.argv.slice(2).filter((arg) => !arg.startsWith('--redis-actors-')),
    options: {
      'max-batch': { type: 'string', default: String(DEFAULT_MAX_BATCH) },
      'max-contributors': { type: 'string', default: String(DEFAULT_MAX_CONTRIBUTORS) },
      durable: { type: 'boolean', default: false },
      run: { type: 'string', default: 'default' },
    },
  });
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`--${name} must be a positive integer, got ${text}`);
    return value;
  };
  // Checked before the start: a bad id would otherwise fail each restart the same way.
  if (!isRunId(values.run)) throw new RangeError(`--run must be ${RUN_ID_RULE}, got ${values.run}`);
  return {
    limits: {
      maxBatch: positive('max-batch', values['max-batch']),
      maxContributors: positive('max-contributors', values['max-contributors']),
    },
    durable: values.durable,
    run: values.run,
  };
}

const { limits, durable, run } = readOptions();
const refusals = new Refusals<RefusalReason>('pi-collector', [
  'bad-samples',
  'bad-batch-id',
  'too-large',
  'too-many-contributors',
  'implausible',
]);
let inside = 0;
let total = 0;
let firstAt: number | undefined;
let target: PiTarget = {};
let done = false;
let doneAt: number | undefined;
const doneFanOut = { told: 0, unreachable: 0, pending: 0 };
const contributions = new Map<string, number>();
/** The counted batch ids of contributors that number their batches; keys are contributors. */
const windows = new Map<string, BatchWindow>();
/** Contributors told `done` a second time, after a batch that came once done. */
const toldAgain = new Set<string>();
let duplicates = 0;
let afterDone = 0;
/** (time, total) checkpoints for the rate. */
const checkpoints: [number, number][] = [];
let self: ActorLifecycleContext | undefined;
/**
 * With --durable, the run's stored totals, once loaded. Every handler waits
 * for it: messages may arrive before runActor returns the system they need.
 */
let storeLoaded: (store: DurableTotals) => void = () => undefined;
const loaded = new Promise<DurableTotals>((resolve) => (storeLoaded = resolve));

function reached(): boolean {
  const { standardError } = estimatePi(inside, total);
  return (
    (target.precision !== undefined && total > 0 && standardError <= target.precision) ||
    (target.samples !== undefined && total >= target.samples)
  );
}

function summary(): PiSummary {
  return {
    samples: total,
    inside,
    ...estimatePi(inside, total),
    elapsedMs: firstAt === undefined ? 0 : (doneAt ?? Date.now()) - firstAt,
    contributors: contributions.size,
  };
}

function status(): PiStatus {
  const now = doneAt ?? Date.now();
  while (checkpoints.length > 1 && (checkpoints[1]?.[0] ?? now) <= now - RATE_WINDOW_MS)
    checkpoints.shift();
  const [since, samplesThen] = checkpoints[0] ?? [now, total];
  return {
    ...summary(),
    samplesPerSecond: now > since ? ((total - samplesThen) * 1000) / (now - since) : 0,
    contributions: [...contributions].map(([address, samples]) => ({ address, samples })),
    target,
    done,
    refused: refusals.snapshot(),
    duplicates,
    afterDone,
    limits,
    doneFanOut: { ...doneFanOut },
  };
}

function finish(): void {
  done = true;
  doneAt = Date.now();
  // Not awaited: the collector keeps answering `status` meanwhile.
  if (self !== undefined) void tellDone(self, summary(), [...contributions.keys()]);
}

/** {@link finish}, keeping the end time of the first collector of the run that reached it. */
async function finishStored(store: DurableTotals, at = Date.now()): Promise<void> {
  done = true;
  doneAt = at;
  doneAt = await store.markDone(at);
  // Told again by a restarted collector: the one before may have died telling.
  if (self !== undefined) void tellDone(self, summary(), [...contributions.keys()]);
}

/** What `done` tells `address`. */
function doneBody(body: PiSummary, address: string): PiDone {
  return { ...body, credited: contributions.get(address) ?? 0 };
}

async function tellDone(
  sender: ActorLifecycleContext,
  body: PiSummary,
  addresses: string[],
): Promise<void> {
  doneFanOut.pending = addresses.length;
  for (let start = 0; start < addresses.length; start += DONE_GROUP_SIZE) {
    const group = addresses.slice(start, start + DONE_GROUP_SIZE);
    const results = await Promise.allSettled(
      group.map((address) => sender.tell(address, 'done', doneBody(body, address))),
    );
    for (const result of results) {
      // A contributor that already left (or never existed) cannot be told; that is fine.
      if (result.status === 'fulfilled') doneFanOut.told++;
      else doneFanOut.unreachable++;
    }
    doneFanOut.pending -= group.length;
  }
}

/** Why `counts` from `sender` is refused, or undefined when it is counted. */
function refusal(
  counts: unknown,
  sender: string,
): { reason: RefusalReason; message: string } | undefined {
  if (typeof counts !== 'object' || counts === null) return badSamples();
  // Only these fields are read: anything else in the body is never walked.
  const { inside: batchInside, total: batchTotal, id } = counts as Record<string, unknown>;
  if (
    typeof batchInside !== 'number' ||
    typeof batchTotal !== 'number' ||
    !Number.isSafeInteger(batchInside) ||
    !Number.isSafeInteger(batchTotal) ||
    batchInside < 0 ||
    batchInside > batchTotal ||
    batchTotal <= 0
  ) {
    return badSamples();
  }
  if (id !== undefined && batchSeq(id, sender) === undefined) {
    return {
      reason: 'bad-batch-id',
      message: 'a batch id is "<sender address>#<seq>", seq an integer of at most 15 digits',
    };
  }
  if (batchTotal > limits.maxBatch) {
    return {
      reason: 'too-large',
      message: `a batch has at most ${limits.maxBatch} samples (--max-batch), this one ${batchTotal}`,
    };
  }
  if (!contributions.has(sender) && contributions.size >= limits.maxContributors) {
    return {
      reason: 'too-many-contributors',
      message: `${limits.maxContributors} addresses contribute already (--max-contributors)`,
    };
  }
  if (total >= PLAUSIBILITY_MIN_SAMPLES) {
    const p = inside / total;
    const standardError = Math.sqrt((p * (1 - p)) / batchTotal);
    const deviation = Math.abs(batchInside / batchTotal - p);
    if (deviation > PLAUSIBILITY_STANDARD_ERRORS * standardError) {
      return {
        reason: 'implausible',
        message:
          `${batchInside}/${batchTotal} inside is more than ${PLAUSIBILITY_STANDARD_ERRORS} ` +
          `standard errors from the ${total} samples counted so far`,
      };
    }
  }
  return undefined;
}

function badSamples(): { reason: RefusalReason; message: string } {
  return {
    reason: 'bad-samples',
    message: 'samples needs integers 0 <= inside <= total, total > 0',
  };
}

/**
 * Whether a batch is to be counted: refused ones are refused, and once done
 * none is (its sender told `done` again, once).
 */
function admitted(counts: PiBatch, context: HandlerContext): boolean {
  const { sender } = context;
  const refused = refusal(counts, sender);
  if (refused !== undefined) {
    refusals.refuse(refused.reason, refused.message, context);
    return false;
  }
  if (done) {
    afterDone++;
    // Its `done` may have been lost (it was away): told once more, each contributor at most once.
    if (self !== undefined && contributions.has(sender) && !toldAgain.has(sender)) {
      toldAgain.add(sender);
      self.tell(sender, 'done', doneBody(summary(), sender)).catch(() => undefined);
    }
    return false;
  }
  return true;
}

/** A rate checkpoint every 250 ms of counting. */
function checkpoint(now: number): void {
  const last = checkpoints[checkpoints.length - 1];
  if (last === undefined || now - last[0] >= 250) checkpoints.push([now, total]);
}

function countInMemory(counts: PiBatch, context: HandlerContext): void {
  if (!admitted(counts, context)) return;
  const { sender } = context;
  // Checked by refusal(): a present id is `<sender>#<seq>`.
  const seq = counts.id === undefined ? undefined : batchSeq(counts.id, sender);
  if (seq !== undefined) {
    let window = windows.get(sender);
    if (window === undefined) windows.set(sender, (window = new BatchWindow()));
    if (window.has(seq)) {
      duplicates++;
      return;
    }
    window.add(seq);
  }
  const now = Date.now();
  firstAt ??= now;
  if (checkpoints.length === 0) checkpoints.push([now, total]);
  inside += counts.inside;
  total += counts.total;
  contributions.set(sender, (contributions.get(sender) ?? 0) + counts.total);
  checkpoint(now);
  if (reached()) finish();
}

/** Counts in Redis first (atomically, once per batch), then takes the totals it answers. */
async function countStored(
  store: DurableTotals,
  counts: PiBatch,
  context: HandlerContext,
): Promise<void> {
  if (!admitted(counts, context)) return;
  const { sender } = context;
  // A batch without an id is known by its message's id, the same in every delivery.
  const key = counts.id === undefined ? `m:${sender}/${context.message.id}` : `b:${counts.id}`;
  const now = Date.now();
  const result = await store.count(key, sender, counts, now);
  duplicates = result.duplicates;
  if (!result.counted) return;
  if (checkpoints.length === 0) checkpoints.push([now, total]);
  firstAt = result.firstAt;
  inside = result.inside;
  total = result.total;
  contributions.set(sender, result.credited);
  checkpoint(now);
  if (reached()) await finishStored(store);
}

/** `given` as a target (only its two known fields); InvalidMessageError when it is none. */
function checkedTarget(given: unknown): PiTarget {
  const { precision, samples } =
    typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : {};
  const valid = (value: unknown): value is number | undefined =>
    value === undefined || (typeof value === 'number' && Number.isFinite(value) && value > 0);
  if (typeof given !== 'object' || given === null || !valid(precision) || !valid(samples)) {
    throw new InvalidMessageError(
      'bad-target',
      'target needs { precision?: number > 0, samples?: number > 0 }',
    );
  }
  // Only the two known fields: whatever else came along is not kept.
  return {
    ...(precision === undefined ? {} : { precision }),
    ...(samples === undefined ? {} : { samples }),
  };
}

/** The target told (typed for callers, but whatever anyone sent); stored first when durable. */
function setTarget(next: unknown, store: DurableTotals | undefined): PiStatus | Promise<PiStatus> {
  const checked = checkedTarget(next);
  if (store === undefined) {
    target = checked;
    if (!done && reached()) finish();
    return status();
  }
  return store.saveTarget(checked).then(async () => {
    target = checked;
    if (!done && reached()) await finishStored(store);
    return status();
  });
}

/** A restarted durable collector continues from what the run stored. */
async function restore(store: DurableTotals, stored: StoredTotals): Promise<void> {
  ({ inside, total, duplicates, firstAt } = stored);
  for (const [address, samples] of stored.contributions) contributions.set(address, samples);
  try {
    target = checkedTarget(stored.target);
  } catch {
    // Only this collector writes it; anyone else's value counts as no target.
  }
  if (reached()) await finishStored(store, stored.doneAt ?? Date.now());
}

export const piCollector = defineActor({
  onStart: (context) => {
    self = context;
  },
  handlers: {
    samples: (counts: PiBatch, context: HandlerContext): void | Promise<void> => {
      if (durable) return loaded.then((store) => countStored(store, counts, context));
      countInMemory(counts, context);
    },
    status: (): PiStatus | Promise<PiStatus> => (durable ? loaded.then(() => status()) : status()),
    target: (next: PiTarget): PiStatus | Promise<PiStatus> =>
      durable ? loaded.then((store) => setTarget(next, store)) : setTarget(next, undefined),
  },
});

const { system } = await runActor(piCollector);
if (durable) {
  const store = new DurableTotals(system, run);
  // A failure here ends the process (exit 1): its supervisor starts it again.
  await restore(store, await store.load());
  storeLoaded(store);
}

/**
 * Progress for whoever watches (`redis-actors dashboard` draws it): once a
 * second while samples come in, on the topic `pi.progress`, and once more when
 * done. Nobody listening costs one PUBLISH a second.
 */
const progress = system.topic<PiProgress>('pi.progress');
let lastPublished = '';
const publishProgress = setInterval(() => {
  const state = `${total}|${done}`;
  if (state === lastPublished || total === 0) return;
  lastPublished = state;
  const { estimate, standardError } = summary();
  void progress
    .publish({ samples: total, estimate, standardError, contributors: contributions.size, done })
    .catch(() => undefined);
}, 1000);
publishProgress.unref();
