/** NOPERM replies as PermissionError, naming the command and the user. */
import { PermissionError } from '../errors.js';
import { RedisReplyError } from './resp.js';

/** `error` as a PermissionError when Redis refused `command` for `user` (NOPERM), else as it is. */
export function asPermissionError<E extends Error>(
  error: E,
  command: string,
  user: string,
): E | PermissionError {
  const message = error instanceof RedisReplyError ? error.message : undefined;
  if (message === undefined || !message.startsWith('NOPERM')) return error;
  return new PermissionError(command.toUpperCase(), user, message, { cause: error });
}
