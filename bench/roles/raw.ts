/**
 * The raw ioredis baseline: `raw.ts responder|requester <socket path> <plain|auto> <prefix>`.
 * The same shapes as the framework, written directly on ioredis the way an
 * application would: one reply channel per process, correlation ids, JSON
 * bodies, a promise per request; `auto` turns on enableAutoPipelining.
 */
import { Redis } from 'ioredis';
import { serve } from '../rpc.js';
import { type Ask, askCommands, asksCompletedSoFar, requestBody, sendOneWay } from '../shapes.js';

const [role, socketPath, mode, prefix] = process.argv.slice(2) as [string, string, string, string];
const options = { path: socketPath, enableAutoPipelining: mode === 'auto' };
const publisher = new Redis(options);
const subscriber = new Redis({ path: socketPath });
const requests = `${prefix}:requests`;
const oneWay = `${prefix}:one-way`;

if (role === 'responder') {
  let ticks = 0;
  subscriber.on('message', (channel: string, text: string) => {
    const message = JSON.parse(text) as { id: number; replyTo?: string; body: unknown };
    if (channel === oneWay) {
      ticks++;
      return;
    }
    void publisher.publish(
      message.replyTo ?? '',
      JSON.stringify({ id: message.id, body: message.body }),
    );
  });
  await subscriber.subscribe(requests, oneWay);
  serve({ ticks: () => ({ ticks }) }, () => ticks);
} else {
  const replies = `${prefix}:replies:${process.pid}`;
  const pending = new Map<number, (body: unknown) => void>();
  let nextId = 0;
  subscriber.on('message', (_channel: string, text: string) => {
    const reply = JSON.parse(text) as { id: number; body: unknown };
    const resolve = pending.get(reply.id);
    pending.delete(reply.id);
    resolve?.(reply.body);
  });
  await subscriber.subscribe(replies);
  const ask: Ask = (body) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      void publisher.publish(requests, JSON.stringify({ id, replyTo: replies, body }));
    });
  serve(
    {
      ...askCommands(ask),
      tells: ({ window, durationMs }: { window: number; durationMs: number }) =>
        sendOneWay(
          (i) => publisher.publish(oneWay, JSON.stringify({ id: i, body: requestBody(i) })),
          window,
          durationMs,
        ),
      large: async ({ bytes }: { bytes: number }) => {
        const payload = Buffer.alloc(bytes, 7);
        const key = `${prefix}:large`;
        const started = performance.now();
        await publisher.set(key, payload);
        const back = await publisher.getBuffer(key);
        const ms = performance.now() - started;
        await publisher.del(key);
        return { ms, ok: back?.length === bytes };
      },
    },
    asksCompletedSoFar,
  );
}
