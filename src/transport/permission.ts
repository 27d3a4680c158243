/** NOPERM replies as PermissionError, naming the command and the user. */
import { PermissionError } from '../errors.js';
import { RedisReplyError } from './resp.js';

/**
 * How Redis says an ACL refused something: `NOPERM …` for a command, and, for
 * a command a Lua script runs (the name-claim and shared-value scripts),
 * `ERR The user executing the script can't …` (Redis 7.0 and later; the script
 * itself was allowed).
 */
const REFUSAL = /^(?:NOPERM\b|(?:ERR )?The user executing the script can't )/;

/** Whether a Redis error message is an ACL refusal. */
export function isPermissionRefusal(message: string): boolean {
  return REFUSAL.test(message);
}

/** `error` as a PermissionError when Redis refused `command` for `user` (NOPERM), else as it is. */
export function asPermissionError<E extends Error>(
  error: E,
  command: string,
  user: string,
): E | PermissionError {
  const message = error instanceof RedisReplyError ? error.message : undefined;
  if (message === undefined || !isPermissionRefusal(message)) return error;
  return new PermissionError(command.toUpperCase(), user, message, { cause: error });
}
