/**
 * Forged input for the examples' tests: envelopes as any Redis client can
 * write them (docs/PROTOCOL.md), under any `from`, published straight with a
 * raw client; and example actors run under a supervisor of the test.
 */
import { nanoid } from 'nanoid';
import type { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { type ChildInfo, type ChildSpec, Supervisor } from '../src/index.js';
import { startSystem } from './helpers.js';

/** A tell envelope as any Redis client can write it, from whoever it claims. */
export function forgedTell(to: string, type: string, body: unknown, from = 'mallory'): object {
  const id = `forged-${nanoid(12)}`;
  return { v: 1, id, kind: 'tell', from, to, type, body, sentAt: Date.now() };
}

/** PUBLISHes one envelope, or a batch of them (a JSON array) in one message, to `to`'s channel. */
export function publish(
  redis: Redis,
  namespace: string,
  to: string,
  payload: object,
): Promise<number> {
  return redis.publish(`${namespace}:${to}`, JSON.stringify(payload));
}

/** Asks `probe` again (every 50 ms) until `accept` takes its answer; fails after `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`not ${what} within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Spawns `children` under a supervisor of the test; their output lines are kept. */
export async function supervise(namespace: string, children: ChildSpec[]) {
  const system = await startSystem({ namespace });
  const output: string[] = [];
  const supervisor = await Supervisor.start(system, {
    output: (line) => {
      output.push(line);
    },
  });
  onTestFinished(() => supervisor.stop());
  const started: ChildInfo[] = [];
  for (const spec of children) started.push(await supervisor.spawn(spec));
  return { system, output, children: started };
}
