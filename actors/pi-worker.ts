/**
 * A pi worker: computes batches of Monte-Carlo samples and tells the
 * collector each batch's counts, without being asked. Supervised, it runs
 * until stopped; started by hand it is a volunteer, and exits once the
 * collector says the computation is `done`.
 *
 *   node --import tsx actors/pi-worker.ts [--collector pi-collector] [--batch 2097152]
 */
import { parseArgs } from 'node:util';
import { NoRecipientError, ShuttingDownError, defineActor, runActor } from 'redis-actors';
import { Sfc32, sampleQuarterDisc } from './monte-carlo.js';
import type { PiStatus } from './pi-collector.js';

const generator = new Sfc32();
/** An object, not a variable: the `done` handler flips it while the loop below awaits. */
const state = { computing: true };
let contributed = 0;
let batches = 0;
let onDone: ((summary: PiStatus) => void) | undefined;

export const piWorker = defineActor({
  handlers: {
    done: (summary: PiStatus) => {
      state.computing = false;
      onDone?.(summary);
    },
    status: () => ({ computing: state.computing, contributed, batches }),
  },
});

const { system, args, supervisor } = await runActor(piWorker);
const { values } = parseArgs({
  args,
  options: {
    collector: { type: 'string', default: 'pi-collector' },
    batch: { type: 'string', default: '2097152' },
  },
});
const collector = values.collector;
const batchSize = Number(values.batch);
if (!Number.isInteger(batchSize) || batchSize <= 0)
  throw new Error(`--batch must be a positive integer, got ${values.batch}`);

if (supervisor === undefined) {
  console.log(
    `volunteer ${system.address} computing for "${collector}" in batches of ${batchSize}`,
  );
  onDone = (summary) => {
    console.log(
      `collector done: π ≈ ${summary.estimate} ± ${summary.standardError.toExponential(2)}; ` +
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
