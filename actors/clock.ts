/**
 * The clock actor. `time` answers the local hour, minute and second and an ISO
 * timestamp. `start { everyMs, to }` makes it tell `to` a `tick` every
 * `everyMs` milliseconds (one timer per recipient; a new `start` for the same
 * recipient replaces its timer); `stop { to }` ends that timer, `stop` without
 * a body ends all of them. `status` lists the timers and the refusals.
 *
 * Anyone who can publish on the Redis can ask it to tick at anyone, so a
 * `start` is refused (counted in `status().refused`, an ask answered with
 * InvalidMessageError) when
 *
 * - `bad-timer`: the body is not `{ everyMs: integer, to: address or name of
 *   at most 512 characters }`, or everyMs is above 2^31 - 1 (which
 *   setInterval would turn into 1 ms);
 * - `too-frequent`: everyMs is below 100 ms;
 * - `caller-limit`: the caller (its `from` address) already started 10 timers;
 * - `total-limit`: 1,000 timers run already.
 *
 * Run it on its own with `node --import tsx actors/clock.ts`, or spawn it from
 * a supervisor with `{ name: 'clock', module: 'actors/clock.ts' }`.
 */
import {
  defineActor,
  runActor,
  type ActorLifecycleContext,
  type HandlerContext,
} from 'redis-actors';
import { Refusals } from './refusals.js';

/** Reply to `time`, and body of each `tick`. */
export interface ClockTime {
  hour: number;
  minute: number;
  second: number;
  /** The same instant as an ISO 8601 timestamp (UTC). */
  iso: string;
}

export interface StartTimer {
  /** Interval between ticks, in milliseconds (at least {@link MIN_EVERY_MS}). */
  everyMs: number;
  /** Address or name the ticks are told to. */
  to: string;
}

export type TimerRefusal = 'bad-timer' | 'too-frequent' | 'caller-limit' | 'total-limit';

/** Reply to `status`. */
export interface ClockStatus {
  /** The running timers; `owner` is the address that started each. */
  timers: { to: string; everyMs: number; owner: string }[];
  limits: typeof LIMITS;
  refused: Record<TimerRefusal, number>;
}

/** Fastest ticking allowed: 10 ticks a second per recipient. */
export const MIN_EVERY_MS = 100;
/** setInterval runs a longer interval every 1 ms instead. */
const MAX_EVERY_MS = 2 ** 31 - 1;
const MAX_RECIPIENT_LENGTH = 512;
const LIMITS = {
  minEveryMs: MIN_EVERY_MS,
  maxEveryMs: MAX_EVERY_MS,
  timersPerCaller: 10,
  timers: 1000,
};

function now(): ClockTime {
  const date = new Date();
  return {
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    iso: date.toISOString(),
  };
}

interface Timer {
  interval: NodeJS.Timeout;
  everyMs: number;
  owner: string;
}

const timers = new Map<string, Timer>();
/** How many timers each caller started, so that the per-caller check costs nothing. */
const timersByOwner = new Map<string, number>();
const refusals = new Refusals<TimerRefusal>('clock', [
  'bad-timer',
  'too-frequent',
  'caller-limit',
  'total-limit',
]);
let self: ActorLifecycleContext | undefined;

function stopTimer(to: string): boolean {
  const timer = timers.get(to);
  if (timer === undefined) return false;
  clearInterval(timer.interval);
  timers.delete(to);
  const owned = (timersByOwner.get(timer.owner) ?? 1) - 1;
  if (owned === 0) timersByOwner.delete(timer.owner);
  else timersByOwner.set(timer.owner, owned);
  return true;
}

/** Why `start` with `body` from `caller` is refused, or undefined when it may run. */
function refusal(
  body: unknown,
  caller: string,
): { reason: TimerRefusal; message: string } | undefined {
  const { everyMs, to } =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (
    typeof everyMs !== 'number' ||
    !Number.isInteger(everyMs) ||
    everyMs > MAX_EVERY_MS ||
    typeof to !== 'string' ||
    to === '' ||
    to.length > MAX_RECIPIENT_LENGTH
  ) {
    return {
      reason: 'bad-timer',
      message:
        `start needs { everyMs: integer >= ${MIN_EVERY_MS} and <= ${MAX_EVERY_MS}, ` +
        `to: address or name of at most ${MAX_RECIPIENT_LENGTH} characters }`,
    };
  }
  if (everyMs < MIN_EVERY_MS) {
    return {
      reason: 'too-frequent',
      message: `everyMs: integer >= ${MIN_EVERY_MS} (milliseconds between ticks), not ${everyMs}`,
    };
  }
  // Replacing a timer the caller owns adds nothing to either count.
  const replaced = timers.get(to);
  if (replaced?.owner !== caller && (timersByOwner.get(caller) ?? 0) >= LIMITS.timersPerCaller) {
    return {
      reason: 'caller-limit',
      message: `at most ${LIMITS.timersPerCaller} timers per caller; stop one first`,
    };
  }
  if (replaced === undefined && timers.size >= LIMITS.timers) {
    return { reason: 'total-limit', message: `at most ${LIMITS.timers} timers run at once` };
  }
  return undefined;
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
    start: (body: StartTimer, context: HandlerContext): StartTimer | undefined => {
      const refused = refusal(body, context.sender);
      if (refused !== undefined) {
        // Throws for an ask; a refused tell has nobody to answer.
        refusals.refuse(refused.reason, refused.message, context);
        return undefined;
      }
      const { everyMs, to } = body;
      stopTimer(to);
      const interval = setInterval(() => {
        // A recipient that went away ends its timer instead of ticking into the void.
        self?.tell(to, 'tick', now()).catch(() => stopTimer(to));
      }, everyMs);
      timers.set(to, { interval, everyMs, owner: context.sender });
      timersByOwner.set(context.sender, (timersByOwner.get(context.sender) ?? 0) + 1);
      return { to, everyMs };
    },
    stop: (body?: { to: string }): { stopped: number } => {
      if (body?.to !== undefined) return { stopped: stopTimer(body.to) ? 1 : 0 };
      const count = timers.size;
      for (const to of [...timers.keys()]) stopTimer(to);
      return { stopped: count };
    },
    status: (): ClockStatus => ({
      timers: [...timers].map(([to, { everyMs, owner }]) => ({ to, everyMs, owner })),
      limits: LIMITS,
      refused: refusals.snapshot(),
    }),
  },
});

await runActor(clock);
