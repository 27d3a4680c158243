/**
 * The redis-actors contender: `ours.ts responder|requester <url> <namespace> [secret]`.
 * Uses the built package (dist/), as an application would.
 */
import { ActorSystem, defineActor } from 'redis-actors';
import { serve } from '../rpc.js';
import { type Ask, askCommands, asksCompletedSoFar, requestBody, sendOneWay } from '../shapes.js';
import { checksum } from '../checksum.js';

const [role, url, namespace, secret] = process.argv.slice(2);
const system = await ActorSystem.start({
  url,
  namespace,
  // A namespace secret (`base64:…`) when given: every payload signed and checked.
  ...(secret === undefined ? {} : { auth: { secret } }),
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});

if (role === 'responder') {
  let ticks = 0;
  const never = new Promise(() => undefined);
  await system.spawn(
    defineActor({
      handlers: {
        echo: (body: unknown) => body,
        tick: () => {
          ticks++;
        },
        checksum: (array: Float64Array) => checksum(array),
      },
    }),
    { name: 'bench-echo' },
  );
  await system.spawn(defineActor({ handlers: { hold: () => never } }), {
    name: 'bench-silent',
    mailbox: { capacity: 100_000 },
  });
  serve({ ticks: () => ({ ticks, dropped: system.stats().dropped }) }, () => ticks);
} else {
  const echo = system.ref('bench-echo');
  const ask: Ask = (body) => echo.ask('echo', body, { timeoutMs: 30_000 });
  serve(
    {
      ...askCommands(ask),
      tells: ({ window, durationMs }: { window: number; durationMs: number }) =>
        sendOneWay((i) => echo.tell('tick', requestBody(i)), window, durationMs),
      large: async ({ bytes }: { bytes: number }) => {
        const array = new Float64Array(bytes / 8);
        for (let i = 0; i < array.length; i += 4099) array[i] = i * 0.5;
        const started = performance.now();
        const reply = await echo.ask('checksum', array, { timeoutMs: 120_000 });
        const ms = performance.now() - started;
        return { ms, ok: reply === checksum(array) };
      },
      pendingMemory: async ({ count }: { count: number }) => {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const before = process.memoryUsage().heapUsed;
        const silent = system.ref('bench-silent');
        const asks = Array.from({ length: count }, (_, i) =>
          silent.ask('hold', requestBody(i), { timeoutMs: 600_000 }).catch(() => undefined),
        );
        // Once this tell is acknowledged, every ask above was written and is pending.
        await silent.tell('hold', null).catch(() => undefined);
        gc?.();
        const after = process.memoryUsage().heapUsed;
        const pending = system.stats().pendingAsks;
        void Promise.all(asks);
        return { bytes: after - before, pending };
      },
    },
    asksCompletedSoFar,
  );
}
