/** A worker for the supervisor example: says who it is. */
import { defineActor, runActor } from 'redis-actors';

const startedAt = Date.now();

export const worker = defineActor({
  handlers: {
    whoami: (_: undefined, context) => ({
      address: context.self,
      pid: process.pid,
      upSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  },
});

await runActor(worker);
