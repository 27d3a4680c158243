/**
 * `npm run clock [-- --ticks]`
 *
 * The seed's clock, as actors: a supervisor spawns `actors/clock.ts`, passing
 * its own mailbox on the command line, waits for the clock's READY, then asks
 * it the time every second and prints it. With `--ticks` it instead asks the
 * clock to `start` a timer that tells a small local actor a `tick` every
 * second. Meanwhile, from another terminal: `npx redis-actors ask clock time`.
 * Ctrl-C stops everything.
 */
import { parseArgs } from 'node:util';
import { defineActor, runSupervisor } from 'redis-actors';
import type { ClockTime, clock as clockActor } from '../../actors/clock.js';

const { values } = parseArgs({ options: { ticks: { type: 'boolean', default: false } } });
const { system, supervisor } = await runSupervisor({
  children: [{ name: 'clock', module: 'actors/clock.ts' }],
});
const child = supervisor.child('clock');
console.log(
  `clock ready: pid ${child?.pid}, address ${child?.address}, supervisor ${supervisor.address}`,
);
console.log('from another terminal: npx redis-actors ask clock time');

const clock = system.ref<typeof clockActor>('clock');
const show = (time: ClockTime) =>
  [time.hour, time.minute, time.second].map((part) => String(part).padStart(2, '0')).join(':');

if (values.ticks) {
  const listener = await system.spawn(
    defineActor({
      handlers: {
        tick: (time: ClockTime) => {
          console.log(`tick ${show(time)}`);
        },
      },
    }),
    { name: 'clock-listener' },
  );
  await clock.ask('start', { everyMs: 1000, to: listener.address });
  console.log(`the clock now tells ${listener.address} a tick every second`);
} else {
  const timer = setInterval(() => {
    const asked = performance.now();
    clock.ask('time', undefined, { timeoutMs: 900 }).then(
      (time) => {
        console.log(
          `${show(time)}  (${time.iso}, answered in ${(performance.now() - asked).toFixed(2)} ms)`,
        );
      },
      (error: unknown) => {
        console.log(`no time: ${(error as Error).name}`);
      },
    );
  }, 1000);
  process.once('SIGINT', () => {
    clearInterval(timer);
  });
}
