/**
 * What a restart involves, per Erlang/OTP: which children go down with the one
 * that failed (the strategy), and how long to wait before starting them again
 * (the backoff).
 */
import type { ChildState } from './supervisor-events.js';
import {
  BACKOFF_DEFAULTS,
  type RestartBackoff,
  type SupervisionStrategy,
} from './supervisor-options.js';

/**
 * The children to restart after `failed` died, in start order: only it
 * (one_for_one), every child (one_for_all), or it and those started after it
 * (rest_for_one). Children already stopped for good stay down, except `failed`.
 */
export function restartGroup<Child extends { state: ChildState }>(
  strategy: SupervisionStrategy,
  children: readonly Child[],
  failed: Child,
): Child[] {
  const group =
    strategy === 'one_for_one'
      ? [failed]
      : strategy === 'one_for_all'
        ? [...children]
        : children.slice(children.indexOf(failed));
  return group.filter((member) => member === failed || member.state !== 'stopped');
}

/**
 * The wait before a restart: `initialMs`, multiplied by `factor` for each
 * further restart within the intensity period, at most `maxMs`.
 */
export function backoffDelayMs(backoff: RestartBackoff, recentRestarts: number): number {
  const initial = backoff.initialMs ?? BACKOFF_DEFAULTS.initialMs;
  return Math.min(
    initial * (backoff.factor ?? BACKOFF_DEFAULTS.factor) ** Math.max(0, recentRestarts - 1),
    backoff.maxMs ?? BACKOFF_DEFAULTS.maxMs,
  );
}
