/**
 * A pi worker: computes batches of Monte-Carlo samples and tells the
 * collector each batch's counts, without being asked. Supervised, it runs
 * until stopped; started by hand it is a volunteer, and exits once the
 * collector says the computation is `done`, printing what the collector
 * credited it.
 *
 * Each batch has an id, `<worker address>#<seq>`. A batch whose send fails is
 * sent again, with the same id, until it goes out. After a `ConnectionError`
 * (Redis unreachable, or the connection broke with the send unanswered, so it
 * may or may not have gone out; the collector counts an id at most once) the
 * worker pauses (250 ms, doubling up to 5 s while sends keep failing), then
 * waits for the connection to be back, and sends it again as a new message:
 * one held for the connection would be refused as stale after 20 s. While no
 * collector listens (not started yet, restarting) it tries every 250 ms. A
 * network outage never ends the worker; it resumes when Redis is back.
 *
 * Anyone can tell a worker `done`, under any address, and the collector is
 * addressed by name while its `done` comes from its process address: so a
 * `done` is only a hint. The worker then asks the collector (by name) for its
 * `status`, in the background, and stops only if that says `done: true`, or
 * if nobody listens on the collector's name any more (a collector that is
 * done may leave before the check arrives; a worker without a collector has
 * nothing to do). Hints the collector contradicts, or that cannot be checked
 * because it does not answer, are counted in the worker's `status`
 * (`ignoredDone`, `uncheckedDone`) and change nothing. However many hints arrive, at most one
 * check is in flight, and one more follows for those that came meanwhile.
 *
 *   node --import tsx actors/pi-worker.ts [--collector pi-collector] [--batch 2097152]
 */
import { parseArgs } from 'node:util';
import {
  ConnectionError,
  NoRecipientError,
  ShuttingDownError,
  defineActor,
  runActor,
  type ActorLifecycleContext,
} from 'redis-actors';
import { Sfc32, sampleQuarterDisc } from './monte-carlo.js';
import type { PiBatch, PiDone, PiStatus } from './pi-collector.js';

/** How long a check of `done` waits for the collector's status. */
const DONE_CHECK_TIMEOUT_MS = 5000;
/** Pause before resending after a ConnectionError: doubles from the first up to the last. */
const RESEND_FIRST_PAUSE_MS = 250;
const RESEND_MAX_PAUSE_MS = 5000;
/** Pause before trying again while no collector listens. */
const NO_COLLECTOR_PAUSE_MS = 250;

/** What a confirmed `done` says: the estimate, and what the collector credited this worker. */
type Verdict = Pick<PiStatus, 'estimate' | 'standardError'> & { credited: number | undefined };

/** Options from the command line; read before the actor starts, so that every `done` can be checked. */
function readOptions(): { collector: string; batchSize: number } {
  const { values } = parseArgs({
    // The supervisor's own flags (`--redis-actors-…=`) are not ours; runActor removes them later.
    args: process.argv.slice(2).filter((arg) => !arg.startsWith('--redis-actors-')),
    options: {
      collector: { type: 'string', default: 'pi-collector' },
      batch: { type: 'string', default: '2097152' },
    },
  });
  const batchSize = Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new Error(`--batch must be a positive integer, got ${values.batch}`);
  return { collector: values.collector, batchSize };
}

const { collector, batchSize } = readOptions();
const generator = new Sfc32();
/** An object, not a variable: the `done` check flips it while the loop below awaits. */
const state = { computing: true };
/** Samples and batches sent (handed to the collector by Redis; not necessarily counted). */
let contributed = 0;
let batches = 0;
/** Batches sent again after a failed send, and the failed sends. */
const resends = { batches: 0, failedSends: 0 };
let onDone: ((verdict: Verdict) => void) | undefined;
let self: ActorLifecycleContext | undefined;
const doneHints = { unchecked: 0, checking: false, ignored: 0, uncheckable: 0 };
/** The figures of the last `done` hint, shown only when the collector left before confirming it. */
let lastHint: Verdict | undefined;

/** What `contributions` (from the collector's status) credits this worker; undefined if unreadable. */
function creditIn(contributions: unknown): number | undefined {
  if (!Array.isArray(contributions)) return undefined;
  for (const entry of contributions as unknown[]) {
    const { address, samples } =
      typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
    if (address === self?.self) return typeof samples === 'number' ? samples : undefined;
  }
  return 0;
}

/**
 * The collector's status, when it answers one that says it is done; false when
 * it says not; the hint's figures when nobody listens on its name any more.
 */
async function collectorIsDone(): Promise<Verdict | false> {
  let status: unknown;
  try {
    status = await self?.ask(collector, 'status', undefined, { timeoutMs: DONE_CHECK_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof NoRecipientError && lastHint !== undefined) return lastHint;
    throw error;
  }
  const { done, estimate, standardError, contributions } =
    typeof status === 'object' && status !== null ? (status as Partial<PiStatus>) : {};
  if (typeof estimate !== 'number' || typeof standardError !== 'number')
    throw new TypeError('not a status');
  return done === true ? { estimate, standardError, credited: creditIn(contributions) } : false;
}

/** Checks the hints received so far against the collector's status; loops while new ones came. */
async function checkDoneHints(): Promise<void> {
  doneHints.checking = true;
  try {
    while (doneHints.unchecked > 0 && state.computing) {
      // Asked after these hints arrived: a genuine `done` is always confirmed by it.
      const covered = doneHints.unchecked;
      doneHints.unchecked = 0;
      let verdict: Verdict | false | undefined;
      try {
        verdict = await collectorIsDone();
      } catch {
        // Unreachable, stopping, or an answer that is not a status: nothing is confirmed.
      }
      if (verdict === undefined) {
        doneHints.uncheckable += covered;
      } else if (verdict === false) {
        doneHints.ignored += covered;
      } else {
        state.computing = false;
        onDone?.(verdict);
      }
    }
  } finally {
    doneHints.checking = false;
  }
}

export const piWorker = defineActor({
  onStart: (context) => {
    self = context;
  },
  handlers: {
    // The body is not trusted: the collector's own status is. Its figures are kept only to
    // be shown if the collector has left by the time the hint is checked.
    done: (body: unknown) => {
      const { estimate, standardError, credited } =
        typeof body === 'object' && body !== null ? (body as Partial<PiDone>) : {};
      if (Number.isFinite(estimate) && Number.isFinite(standardError)) {
        lastHint = {
          estimate: estimate as number,
          standardError: standardError as number,
          credited: Number.isSafeInteger(credited) ? credited : undefined,
        };
      }
      doneHints.unchecked++;
      if (!doneHints.checking) void checkDoneHints();
    },
    status: () => ({
      computing: state.computing,
      contributed,
      batches,
      resentBatches: resends.batches,
      failedSends: resends.failedSends,
      ignoredDone: doneHints.ignored,
      uncheckedDone: doneHints.uncheckable,
    }),
  },
});

const { system, supervisor } = await runActor(piWorker);

if (supervisor === undefined) {
  console.log(
    `volunteer ${system.address} computing for "${collector}" in batches of ${batchSize}`,
  );
  onDone = ({ estimate, standardError, credited }) => {
    const sent =
      `${batches} batches sent, ${resends.batches} of them again after a failed send` +
      (resends.failedSends > resends.batches ? ` (${resends.failedSends} failed sends)` : '');
    console.log(
      `collector done: π ≈ ${estimate} ± ${standardError.toExponential(2)}; ` +
        (credited === undefined
          ? `the collector did not say what it credited this volunteer (${sent})`
          : `the collector credited this volunteer ${credited} samples (${sent})`),
    );
    void system.stop().then(() => process.exit(0));
  };
}

const yieldToMessages = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves after `ms`, or sooner when the system reports its connection restored. */
function pauseUntilRestored(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      system.off('connection-restored', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    system.on('connection-restored', wake);
  });
}

/**
 * Says once that no collector listens: at the first try before any batch went
 * out; later, at the second try in a row (a collector that is done, told this
 * worker so, and left meanwhile is not announced as gone), unless a `done` is
 * being checked.
 */
function announceNoCollector(): void {
  if (batches === 0 && unheard === 1) {
    console.log(`waiting for a collector named "${collector}"…`);
  } else if (batches > 0 && unheard === 2 && !doneHints.checking && doneHints.unchecked === 0) {
    console.log(`no collector named "${collector}" answers any more; waiting for one…`);
  }
}

/** A batch not sent yet, and how its sends went. */
interface Outgoing {
  batch: Required<PiBatch>;
  failedSends: number;
  firstFailedAt?: number;
}

let seq = 0;
let unsent: Outgoing | undefined;
/** Sends in a row that no collector received. */
let unheard = 0;

while (state.computing) {
  const outgoing: Outgoing = unsent ?? {
    batch: { ...sampleQuarterDisc(generator, batchSize), id: `${system.address}#${seq++}` },
    failedSends: 0,
  };
  unsent = outgoing;
  try {
    await system.tell(collector, 'samples', outgoing.batch);
  } catch (error) {
    if (error instanceof ShuttingDownError) break;
    if (error instanceof NoRecipientError) {
      // No collector (yet, or restarting): nobody received it; the same batch goes again shortly.
      unheard++;
      if (supervisor === undefined) announceNoCollector();
      await pause(NO_COLLECTOR_PAUSE_MS);
      continue;
    }
    if (!(error instanceof ConnectionError)) throw error;
    // It may or may not have gone out: sent again with the same id, counted at most once.
    if (outgoing.failedSends++ === 0) {
      outgoing.firstFailedAt = Date.now();
      resends.batches++;
      // The first sentence: what happened, without the advice that follows it.
      const [what] = error.message.split('. ', 1);
      console.log(
        `batch ${outgoing.batch.id} not sent (${what ?? ''}); sending it again until Redis answers`,
      );
    }
    resends.failedSends++;
    await pause(
      Math.min(RESEND_FIRST_PAUSE_MS * 2 ** (outgoing.failedSends - 1), RESEND_MAX_PAUSE_MS),
    );
    while (!system.stats().connected) await pauseUntilRestored(RESEND_MAX_PAUSE_MS);
    continue;
  }
  unsent = undefined;
  unheard = 0;
  contributed += outgoing.batch.total;
  batches++;
  if (outgoing.firstFailedAt !== undefined) {
    const seconds = ((Date.now() - outgoing.firstFailedAt) / 1000).toFixed(1);
    console.log(
      `batch ${outgoing.batch.id} sent after ${outgoing.failedSends} failed send(s), ` +
        `${seconds} s after the first`,
    );
  }
  await yieldToMessages();
}
