/** Where the framework reports what it dropped, lost or recovered. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * A logger writing one line per event to stderr, prefixed with `[redis-actors]`.
 * Its level comes from `REDIS_ACTORS_LOG` (debug, info, warn, error, silent), default `warn`.
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
        process.stderr.write(`[redis-actors] ${at}: ${message}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Logs the first occurrence of each reason, then only counts (the counters say how many). */
export class OncePerReason {
  private readonly seen = new Set<string>();

  constructor(private readonly logger: Logger) {}

  warn(reason: string, message: string): void {
    if (this.seen.has(reason)) return;
    this.seen.add(reason);
    this.logger.warn(`${message} (further "${reason}" events are counted, not logged)`);
  }
}
