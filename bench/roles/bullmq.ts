/**
 * The BullMQ contender:
 * `bullmq.ts responder|requester <socket path> <queue name> <concurrency> <add|bulk>`.
 * The responder is one Worker of that `concurrency`, completed and failed
 * jobs removed (`removeOnComplete: true`, `removeOnFail: true`: a queue that
 * only moves work keeps nothing); it checks each job's data and counts the
 * jobs completed (the `completed` event, after BullMQ moved the job to
 * finished). The requester is one Queue adding jobs with at most a window of
 * adds unacknowledged: one `queue.add` per job (`add`), or `addBulk` of 100
 * jobs per call with window / 100 calls in flight (`bulk`).
 */
import { Queue, Worker } from 'bullmq';
import { OneWayCheck } from '../one-way-check.js';
import { serve } from '../rpc.js';
import { requestBody, sendOneWay } from '../shapes.js';

const [role, socketPath, queueName, concurrency, adds] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const BULK = 100;

if (role === 'responder') {
  const check = new OneWayCheck();
  let completed = 0;
  let failed = 0;
  const worker = new Worker(
    queueName,
    (job) => {
      check.check(job.data);
      return Promise.resolve();
    },
    {
      // A Worker's blocking connection must retry forever (BullMQ refuses otherwise).
      connection: { path: socketPath, maxRetriesPerRequest: null },
      concurrency: Number(concurrency),
      // What `removeOnComplete: true` / `removeOnFail: true` on the jobs mean (the
      // Worker's own options take a count, not a boolean); the Queue sets those too.
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  worker.on('completed', () => {
    completed++;
  });
  worker.on('failed', () => {
    failed++;
  });
  worker.on('error', (error) => {
    console.error('bullmq worker:', error);
  });
  await worker.waitUntilReady();
  serve({ oneWayMismatches: () => check.mismatches, failedJobs: () => failed }, () => completed);
} else {
  const queue = new Queue(queueName, {
    connection: { path: socketPath },
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  queue.on('error', (error) => {
    console.error('bullmq queue:', error);
  });
  await queue.waitUntilReady();
  const tells = async ({ window, durationMs }: { window: number; durationMs: number }) => {
    if (adds === 'add') {
      return sendOneWay((i) => queue.add('bench', requestBody(i)), window, durationMs);
    }
    const chunk = (n: number) =>
      Array.from({ length: BULK }, (_, k) => ({ name: 'bench', data: requestBody(n * BULK + k) }));
    const calls = await sendOneWay(
      (n) => queue.addBulk(chunk(n)),
      Math.max(1, Math.round(window / BULK)),
      durationMs,
    );
    // In jobs, as the other contenders count their messages.
    return { sent: calls.sent * BULK, failed: calls.failed * BULK };
  };
  serve({ tells });
}
