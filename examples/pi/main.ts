/**
 * `npm run pi -- [--workers N] [--samples S | --precision P] [--batch B] [--durable]`
 *
 * A supervisor spawns the pi collector and N pi workers (default: one per
 * core). Workers send batches of Monte-Carlo samples; the collector adds them
 * up. This process shows the progress on one updating line and a summary at
 * the end. Volunteers may join from other terminals or machines:
 * `npm run pi:volunteer`.
 *
 * With `--durable` the collector has a durable mailbox and keeps its totals
 * in Redis under a run id of this run's own, so that batches told while it
 * restarts wait for it and a collector restarted after a crash continues from
 * what the one before counted, each batch once (see actors/pi-totals.ts).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { AskTimeoutError, type ChildInfo, runSupervisor } from 'redis-actors';
import type { PiStatus, PiTarget, piCollector } from '../../actors/pi-collector.js';

/** Default precision: about 3·10⁹ samples, some 15 s on two cores. */
const DEFAULT_PRECISION = 3e-5;
const COLLECTOR = 'pi-collector';

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run pi -- [--workers N] [--samples S | --precision P] [--batch B] [--durable]\n`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    workers: { type: 'string' },
    samples: { type: 'string' },
    precision: { type: 'string' },
    batch: { type: 'string', default: '2097152' },
    durable: { type: 'boolean', default: false },
  },
});
const durable = values.durable;
/** Names this run's keys: a later run in the same namespace starts from nothing. */
const run = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const workers = values.workers === undefined ? os.availableParallelism() : Number(values.workers);
if (!Number.isInteger(workers) || workers < 0)
  usage(`--workers must be an integer >= 0, got ${values.workers}`);
const target: PiTarget = {};
if (values.samples !== undefined) target.samples = Number(values.samples);
if (values.precision !== undefined) target.precision = Number(values.precision);
if (target.samples === undefined && target.precision === undefined)
  target.precision = DEFAULT_PRECISION;
for (const [name, value] of Object.entries(target)) {
  if (!Number.isFinite(value) || (value as number) <= 0)
    usage(`--${name} must be a positive number`);
}

const { system, supervisor, shutdown } = await runSupervisor({
  children: [
    durable
      ? {
          name: COLLECTOR,
          module: 'actors/pi-collector.ts',
          args: ['--durable', '--run', run],
          mailbox: { durable: true },
        }
      : { name: COLLECTOR, module: 'actors/pi-collector.ts' },
    ...Array.from({ length: workers }, (_, i) => ({
      name: `pi-worker-${i + 1}`,
      module: 'actors/pi-worker.ts',
      args: ['--collector', COLLECTOR, '--batch', values.batch],
    })),
  ],
});
const collector = system.ref<typeof piCollector>(COLLECTOR);
await collector.ask('target', target);
const goal =
  target.samples === undefined
    ? `standard error <= ${target.precision}`
    : `${target.samples} samples`;
console.log(
  `computing π with ${workers} worker(s) until ${goal}; volunteers: npm run pi:volunteer`,
);
for (const child of supervisor.children())
  console.log(`  ${child.name}  pid ${child.pid}  ${child.address}`);
if (durable) {
  console.log(
    `durable collector: run ${run}, its totals in ${system.key('pi', `{${run}}`)}:* (kept a day)`,
  );
}
supervisor.on('child-started', (child: ChildInfo) => {
  console.log(`${child.name} restarted: pid ${child.pid} (restart #${child.restarts})`);
});

const formatCount = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : `${(n / 1e6).toFixed(1)}M`;
const progress = (s: PiStatus) =>
  `samples ${formatCount(s.samples)}  π ≈ ${s.estimate.toFixed(7)} ± ${s.standardError.toFixed(7)}  ` +
  `${formatCount(s.samplesPerSecond)} samples/s  contributors ${s.contributors}`;

async function summary(final: PiStatus): Promise<void> {
  const names = new Map((await system.registry.list()).map((actor) => [actor.address, actor.name]));
  const deviation = Math.abs(final.estimate - Math.PI) / final.standardError;
  console.log(
    `π ≈ ${final.estimate.toFixed(8)} ± ${final.standardError.toFixed(8)} (standard error)`,
  );
  console.log(
    `${final.samples} samples (${final.inside} inside) in ${(final.elapsedMs / 1000).toFixed(1)} s, ` +
      `${formatCount(final.samplesPerSecond)} samples/s`,
  );
  console.log(`|estimate - π| = ${deviation.toFixed(2)} standard errors`);
  const refused = Object.entries(final.refused).filter(([, count]) => count > 0);
  if (refused.length > 0) {
    console.log(
      `refused batches: ${refused.map(([reason, count]) => `${reason} ${count}`).join(', ')}`,
    );
  }
  if (final.duplicates > 0) {
    const why = durable
      ? 'delivered again after a collector restart, or resent after a failed send'
      : 'resent after a failed send';
    console.log(`batches received again (${why}), not counted: ${final.duplicates}`);
  }
  for (const { address, samples } of final.contributions) {
    console.log(
      `  ${(names.get(address) ?? 'volunteer').padEnd(14)} ${address.padEnd(24)} ${samples} samples`,
    );
  }
}

const interactive = process.stdout.isTTY;
let lastPrinted = 0;
for (;;) {
  let status: PiStatus;
  try {
    status = await collector.ask('status');
  } catch (error) {
    // A durable collector that is restarting answers once it is back; the asks meanwhile
    // wait in its mailbox, and those that waited past their deadline are not answered.
    if (!durable || !(error instanceof AskTimeoutError)) throw error;
    continue;
  }
  if (status.done) {
    if (interactive) process.stdout.write('\n');
    await summary(status);
    await shutdown(0);
  }
  if (interactive) process.stdout.write(`\r\x1b[K${progress(status)}`);
  else if (Date.now() - lastPrinted >= 1000 && status.samples > 0) {
    lastPrinted = Date.now();
    console.log(progress(status));
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
