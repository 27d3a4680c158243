/** Where the framework reports what it dropped, lost or recovered. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Control characters and line separators: each would let wire data start a log line of its own. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` on one line and safe for a terminal: control characters (escape
 * sequences included) and line separators written as `\uNNNN`, which also
 * keeps JSON text valid JSON.
 */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Multi-line text (pretty JSON, a table) with each line made {@link printable}. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/**
 * A logger writing one line per event to stderr, prefixed with `[redis-actors]`.
 * Its level comes from `REDIS_ACTORS_LOG` (debug, info, warn, error, silent), default `warn`.
 * Messages are written on one line whatever they contain.
 */
export function createStderrLogger(level?: LogLevel): Logger {
  const fromEnv = process.env.REDIS_ACTORS_LOG as LogLevel | undefined;
  const threshold = LEVELS.indexOf(
    level ?? (fromEnv && LEVELS.includes(fromEnv) ? fromEnv : 'warn'),
  );
  const write =
    (at: LogLevel) =>
    (message: string): void => {
      if (LEVELS.indexOf(at) >= threshold)
        process.stderr.write(`[redis-actors] ${at}: ${printable(message)}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
