/**
 * A pi worker: computes batches of Monte-Carlo samples and tells the
 * collector each batch's counts, without being asked. Supervised, it runs
 * until stopped; started by hand it is a volunteer, and exits once the
 * collector says the computation is `done`.
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
  NoRecipientError,
  ShuttingDownError,
  defineActor,
  runActor,
  type ActorLifecycleContext,
} from 'redis-actors';
import { Sfc32, sampleQuarterDisc } from './monte-carlo.js';
import type { PiStatus } from './pi-collector.js';

/** How long a check of `done` waits for the collector's status. */
const DONE_CHECK_TIMEOUT_MS = 5000;

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
let contributed = 0;
let batches = 0;
let onDone: ((status: Pick<PiStatus, 'estimate' | 'standardError'>) => void) | undefined;
let self: ActorLifecycleContext | undefined;
const doneHints = { unchecked: 0, checking: false, ignored: 0, uncheckable: 0 };
/** The figures of the last `done` hint, shown only when the collector left before confirming it. */
let lastHint: Pick<PiStatus, 'estimate' | 'standardError'> | undefined;

/**
 * The collector's status, when it answers one that says it is done; false when
 * it says not; the hint's figures when nobody listens on its name any more.
 */
async function collectorIsDone(): Promise<Pick<PiStatus, 'estimate' | 'standardError'> | false> {
  let status: unknown;
  try {
    status = await self?.ask(collector, 'status', undefined, { timeoutMs: DONE_CHECK_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof NoRecipientError && lastHint !== undefined) return lastHint;
    throw error;
  }
  const { done, estimate, standardError } =
    typeof status === 'object' && status !== null ? (status as Partial<PiStatus>) : {};
  if (typeof estimate !== 'number' || typeof standardError !== 'number')
    throw new TypeError('not a status');
  return done === true ? (status as PiStatus) : false;
}

/** Checks the hints received so far against the collector's status; loops while new ones came. */
async function checkDoneHints(): Promise<void> {
  doneHints.checking = true;
  try {
    while (doneHints.unchecked > 0 && state.computing) {
      // Asked after these hints arrived: a genuine `done` is always confirmed by it.
      const covered = doneHints.unchecked;
      doneHints.unchecked = 0;
      let verdict: Pick<PiStatus, 'estimate' | 'standardError'> | false | undefined;
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
      const { estimate, standardError } =
        typeof body === 'object' && body !== null ? (body as Partial<PiStatus>) : {};
      if (Number.isFinite(estimate) && Number.isFinite(standardError))
        lastHint = { estimate: estimate as number, standardError: standardError as number };
      doneHints.unchecked++;
      if (!doneHints.checking) void checkDoneHints();
    },
    status: () => ({
      computing: state.computing,
      contributed,
      batches,
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
  onDone = (status) => {
    console.log(
      `collector done: π ≈ ${status.estimate} ± ${status.standardError.toExponential(2)}; ` +
        `this volunteer contributed ${contributed} samples`,
    );
    void system.stop().then(() => process.exit(0));
  };
}

const yieldToMessages = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

while (state.computing) {
  const counts = sampleQuarterDisc(generator, batchSize);
  try {
    await system.tell(collector, 'samples', counts);
    contributed += counts.total;
    batches++;
  } catch (error) {
    if (error instanceof ShuttingDownError) break;
    if (!(error instanceof NoRecipientError)) throw error;
    // No collector (yet, or restarting): nobody can count this batch; drop it and retry shortly.
    if (supervisor === undefined && batches === 0)
      console.log(`waiting for a collector named "${collector}"…`);
    await pause(250);
    continue;
  }
  await yieldToMessages();
}
