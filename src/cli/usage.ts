/** Command-line errors and exit codes of `redis-actors`. */
import {
  AskTimeoutError,
  BrokerNotFoundError,
  ConnectionError,
  NoRecipientError,
  PermissionError,
  RemoteError,
  UnknownMessageTypeError,
} from '../index.js';

/** Exit codes, documented in `redis-actors --help`. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  timeout: 3,
  noRecipient: 4,
  remoteError: 5,
  noRedis: 6,
  permission: 7,
} as const;

/** Wrong arguments: the message goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof AskTimeoutError) return EXIT.timeout;
  if (error instanceof NoRecipientError) return EXIT.noRecipient;
  if (error instanceof RemoteError || error instanceof UnknownMessageTypeError)
    return EXIT.remoteError;
  if (error instanceof PermissionError) return EXIT.permission;
  if (error instanceof ConnectionError || error instanceof BrokerNotFoundError) return EXIT.noRedis;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    return EXIT.usage;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return EXIT.usage;
  if (code === 'INVALID_OPTION') return EXIT.usage;
  return EXIT.failure;
}

/** Parses a JSON body argument, with a hint when it is not JSON. */
export function parseJsonArgument(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(
      `the body must be JSON, got ${JSON.stringify(text)}. Quote strings twice: '"hello"', numbers as is: 42, objects: '{"n":1}'`,
    );
  }
}

export function parsePositiveInteger(
  name: string,
  text: string | undefined,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new UsageError(`${name} must be a positive integer, got "${text}"`);
  return value;
}
