/**
 * Which raw commands may run on the shared, pipelined connection. A command
 * that blocks the connection or changes its state would stall or corrupt the
 * traffic of every actor sharing it.
 */
import type { CommandArgument } from './resp.js';

/** Commands that block the connection or change its state for the commands after them. */
const UNSAFE_ON_SHARED_CONNECTION: ReadonlySet<string> = new Set([
  'BLPOP',
  'BRPOP',
  'BLMOVE',
  'BRPOPLPUSH',
  'BLMPOP',
  'BZPOPMIN',
  'BZPOPMAX',
  'BZMPOP',
  'WAIT',
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'UNWATCH',
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'MONITOR',
  'SELECT',
  'QUIT',
  'RESET',
  'CLIENT',
  'AUTH',
  'HELLO',
]);

/** Why `args` may not run on the shared connection, or `undefined` when it may. */
export function sharedConnectionRefusal(args: readonly CommandArgument[]): string | undefined {
  const name = String(args[0] ?? '').toUpperCase();
  const blocks = args.some((arg) => typeof arg === 'string' && arg.toUpperCase() === 'BLOCK');
  if (
    !UNSAFE_ON_SHARED_CONNECTION.has(name) &&
    !(blocks && (name === 'XREAD' || name === 'XREADGROUP'))
  ) {
    return undefined;
  }
  return (
    `${name} cannot run on the shared connection (it blocks, or holds connection state); ` +
    `use EVAL for atomic updates or a Redis client of your own`
  );
}
