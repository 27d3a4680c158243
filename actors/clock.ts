/**
 * The clock actor. `time` answers the local hour, minute and second and an ISO
 * timestamp. `start { everyMs, to }` makes it tell `to` a `tick` every
 * `everyMs` milliseconds (one timer per recipient); `stop { to }` ends that
 * timer, `stop` without a body ends all of them.
 *
 * Run it on its own with `node --import tsx actors/clock.ts`, or spawn it from
 * a supervisor with `{ name: 'clock', module: 'actors/clock.ts' }`.
 */
import {
  InvalidMessageError,
  defineActor,
  runActor,
  type ActorLifecycleContext,
} from 'redis-actors';

/** Reply to `time`, and body of each `tick`. */
export interface ClockTime {
  hour: number;
  minute: number;
  second: number;
  /** The same instant as an ISO 8601 timestamp (UTC). */
  iso: string;
}

export interface StartTimer {
  /** Interval between ticks, in milliseconds (at least 10). */
  everyMs: number;
  /** Address or name the ticks are told to. */
  to: string;
}

function now(): ClockTime {
  const date = new Date();
  return {
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    iso: date.toISOString(),
  };
}

const timers = new Map<string, NodeJS.Timeout>();
let self: ActorLifecycleContext | undefined;

function stopTimer(to: string): boolean {
  const timer = timers.get(to);
  clearInterval(timer);
  return timers.delete(to);
}

export const clock = defineActor({
  onStart: (context) => {
    self = context;
  },
  onStop: () => {
    for (const to of [...timers.keys()]) stopTimer(to);
  },
  handlers: {
    time: (): ClockTime => now(),
    start: ({ everyMs, to }: StartTimer): { to: string; everyMs: number } => {
      if (!Number.isInteger(everyMs) || everyMs < 10 || typeof to !== 'string' || to === '') {
        throw new InvalidMessageError(
          'bad-timer',
          'start needs { everyMs: integer >= 10, to: address or name }',
        );
      }
      stopTimer(to);
      const timer = setInterval(() => {
        // A recipient that went away ends its timer instead of ticking into the void.
        self?.tell(to, 'tick', now()).catch(() => stopTimer(to));
      }, everyMs);
      timers.set(to, timer);
      return { to, everyMs };
    },
    stop: (body?: { to: string }): { stopped: number } => {
      if (body?.to !== undefined) return { stopped: stopTimer(body.to) ? 1 : 0 };
      const count = timers.size;
      for (const to of [...timers.keys()]) stopTimer(to);
      return { stopped: count };
    },
  },
});

await runActor(clock);
