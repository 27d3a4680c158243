/**
 * redis-actors with a durable mailbox (a Redis Stream per actor):
 * `ours-durable.ts responder|requester <url> <namespace>`. Uses the built
 * package (dist/), as an application would.
 *
 * The responder hosts `bench-durable` (durable mailbox, 64 handled at a time:
 * `echo` answers asks, `count` checks and counts tells) and, for the latency
 * comparison in the same pair of processes, `bench-echo`, a plain (pub/sub)
 * actor. The requester tells and asks them by name.
 */
import { ActorSystem, defineActor } from 'redis-actors';
import { OneWayCheck } from '../one-way-check.js';
import { serve } from '../rpc.js';
import {
  type Ask,
  asksCompletedSoFar,
  measureLatency,
  measureThroughput,
  requestBody,
  sendOneWay,
} from '../shapes.js';

const [role, url, namespace] = process.argv.slice(2);
const DURABLE = 'bench-durable';
const PUB_SUB = 'bench-echo';
const system = await ActorSystem.start({
  url,
  namespace,
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});

if (role === 'responder') {
  const check = new OneWayCheck();
  let counted = 0;
  await system.spawn(
    defineActor({
      handlers: {
        echo: (body: unknown) => body,
        count: (body: unknown) => {
          check.check(body);
          counted++;
        },
      },
    }),
    { name: DURABLE, mailbox: { durable: true, concurrency: 64 } },
  );
  await system.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
    name: PUB_SUB,
  });
  serve(
    {
      oneWayMismatches: () => check.mismatches,
      dropped: () => system.stats().dropped,
    },
    () => counted,
  );
} else {
  const askOf =
    (to: string): Ask =>
    (body) =>
      system.ask(to, 'echo', body, { timeoutMs: 30_000 });
  const asks = { durable: askOf(DURABLE), pubSub: askOf(PUB_SUB) };
  serve(
    {
      tells: ({ window, durationMs }: { window: number; durationMs: number }) =>
        sendOneWay((i) => system.tell(DURABLE, 'count', requestBody(i)), window, durationMs),
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
      }) => measureThroughput(asks.durable, inflight, durationMs, warmupMs, tailMs),
      latency: ({
        mailbox,
        count,
        warmup,
      }: {
        mailbox: keyof typeof asks;
        count: number;
        warmup: number;
      }) => measureLatency(asks[mailbox], count, warmup),
    },
    asksCompletedSoFar,
  );
}
